/** Changes whenever the generated code or the frame list changes; part of the on-disk cache key. */
export const TRANSFORM_VERSION = '9';
