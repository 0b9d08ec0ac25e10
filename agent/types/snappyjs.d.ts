declare module 'snappyjs' {
  /** Snappy's block format (not the framing format), as remote write wants. */
  export function compress<T extends Uint8Array | ArrayBuffer>(input: T): T;
  export function uncompress<T extends Uint8Array | ArrayBuffer>(input: T, maxLength?: number): T;
}
