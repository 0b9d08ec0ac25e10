import { closeSync, openSync, readSync } from 'node:fs';

/**
 * The pid and command a Linux ELF core names, read from its NT_PRPSINFO note (x86-64 layout:
 * pr_pid at 24, pr_fname[16] at 40, pr_psargs[80] at 56). Only the headers and notes are read.
 */
export function coreIdentity(path: string): { type: number; pid: number; fname: string; psargs: string } {
  const fd = openSync(path, 'r');
  try {
    const read = (offset: number, length: number): Buffer => {
      const b = Buffer.alloc(length);
      readSync(fd, b, 0, length, offset);
      return b;
    };
    const eh = read(0, 64);
    if (eh.toString('latin1', 0, 4) !== '\x7fELF' || eh[4] !== 2) throw new Error(`${path} is not a 64-bit ELF file`);
    const type = eh.readUInt16LE(16);
    const phoff = Number(eh.readBigUInt64LE(32));
    const phentsize = eh.readUInt16LE(54);
    const phnum = eh.readUInt16LE(56);
    for (let i = 0; i < phnum; i++) {
      const ph = read(phoff + i * phentsize, phentsize);
      if (ph.readUInt32LE(0) !== 4) continue; // PT_NOTE
      const notes = read(Number(ph.readBigUInt64LE(8)), Number(ph.readBigUInt64LE(32)));
      for (let at = 0; at + 12 <= notes.length; ) {
        const namesz = notes.readUInt32LE(at);
        const descsz = notes.readUInt32LE(at + 4);
        const ntype = notes.readUInt32LE(at + 8);
        const desc = at + 12 + Math.ceil(namesz / 4) * 4;
        if (ntype === 3) {
          const cstr = (o: number, n: number) => notes.toString('latin1', desc + o, desc + o + n).replace(/\0.*$/s, '');
          return { type, pid: notes.readInt32LE(desc + 24), fname: cstr(40, 16), psargs: cstr(56, 80) };
        }
        at = desc + Math.ceil(descsz / 4) * 4;
      }
    }
    throw new Error(`${path} has no NT_PRPSINFO note`);
  } finally {
    closeSync(fd);
  }
}
