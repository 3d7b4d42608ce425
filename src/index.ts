/** The viz package's programmatic API (see README "Tracing API"). */
export * from './api/index.js';
