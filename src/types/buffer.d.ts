// Node's Buffer has fast, undocumented-in-types slice decoders; the scanner uses latin1Slice for ASCII text.
declare global {
  interface Buffer {
    latin1Slice(start?: number, end?: number): string;
    utf8Slice(start?: number, end?: number): string;
  }
}
export {};
