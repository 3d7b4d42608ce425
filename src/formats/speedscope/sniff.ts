/**
 * Recognising a speedscope document, apart from the writer so that format detection does not
 * load the writer.
 */
export const SPEEDSCOPE_SCHEMA = 'https://www.speedscope.app/file-format-schema.json';

/** Content sniff: a JSON object that declares speedscope's schema (anywhere in the head: speedscope's own exports put it after `exporter`). */
export function sniffSpeedscope(head: Buffer): boolean {
  const text = head.subarray(0, 64 * 1024).toString('utf8');
  if (!/^\uFEFF?\s*\{/.test(text)) return false;
  return /"\$schema"\s*:\s*"https:\/\/www\.speedscope\.app\/file-format-schema\.json"/.test(text);
}
