// Preloaded by bench/limits.mjs (`node --import`): writes the process's peak RSS in KB to
// $VIZ_MAXRSS_FILE when it exits, however it exits (process.exit included).
import { writeFileSync } from 'node:fs';

const file = process.env.VIZ_MAXRSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
