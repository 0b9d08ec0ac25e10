/**
 * Builds what PdhGetFormattedCounterArrayW writes on 64-bit Windows: an array of
 * PDH_FMT_COUNTERVALUE_ITEM_W { LPWSTR szName; PDH_FMT_COUNTERVALUE FmtValue } where FmtValue is
 * { DWORD CStatus; (4 bytes padding) union { ...; double doubleValue; ... } }, followed by the
 * NUL-terminated instance names the items point at. Written field by field with natural alignment,
 * not from the decoder's offsets.
 */
export interface ItemSpec {
  readonly name: string;
  readonly status: number;
  readonly value: number;
}

export function buildCounterArray(items: readonly ItemSpec[], baseAddress = 0x0000_0213_9a40_1000n): { buffer: Uint8Array; baseAddress: bigint; bytes: number } {
  const pointerSize = 8;
  const valueUnionAt = 8; // DWORD CStatus, then the union aligned to 8
  const countervalueSize = valueUnionAt + 8;
  const itemSize = pointerSize + countervalueSize;
  const namesAt = items.length * itemSize;
  const namesBytes = items.reduce((n, it) => n + 2 * (it.name.length + 1), 0);
  const bytes = namesAt + namesBytes;
  const buffer = new Uint8Array(bytes + 64); // PDH's buffer may be larger than what it wrote
  const view = new DataView(buffer.buffer);
  let nameAt = namesAt;
  items.forEach((it, i) => {
    const at = i * itemSize;
    view.setBigUint64(at, baseAddress + BigInt(nameAt), true);
    view.setUint32(at + pointerSize, it.status >>> 0, true);
    view.setFloat64(at + pointerSize + valueUnionAt, it.value, true);
    for (const ch of it.name) {
      view.setUint16(nameAt, ch.charCodeAt(0), true);
      nameAt += 2;
    }
    view.setUint16(nameAt, 0, true);
    nameAt += 2;
  });
  return { buffer, baseAddress, bytes };
}
