/**
 * npz: reads and writes numpy's .npz format (a zip of .npy files) with no dependency, so that
 * `np.load("training_data.npz")` reads what the generator writes and the trainer reads the same file.
 *
 * Writing is deterministic: entries are stored uncompressed in the order given, with a fixed timestamp
 * (1980-01-01 00:00), so the same arrays give a byte-identical file. Reading accepts stored and deflated
 * entries (np.savez and np.savez_compressed). Supported dtypes: float32, float64, uint8, int32 and
 * fixed-width unicode strings ('<U…'), in C order.
 */
import { inflateRawSync } from 'node:zlib';
import { InputError } from './errors.js';

export type NpyArray =
  | { dtype: 'f4'; shape: number[]; data: Float32Array }
  | { dtype: 'f8'; shape: number[]; data: Float64Array }
  | { dtype: 'u1'; shape: number[]; data: Uint8Array }
  | { dtype: 'i4'; shape: number[]; data: Int32Array }
  | { dtype: 'U'; shape: number[]; data: string[] };

/** NpzError says which entry or byte of an .npz is wrong. */
export class NpzError extends InputError {
  constructor(message: string) {
    super(message);
  }
}

const DESCR: Record<Exclude<NpyArray['dtype'], 'U'>, string> = { f4: '<f4', f8: '<f8', u1: '|u1', i4: '<i4' };

/** encodeNpy serializes one array as .npy version 1.0 bytes. */
export function encodeNpy(a: NpyArray): Buffer {
  let descr: string;
  let body: Buffer;
  if (a.dtype === 'U') {
    const width = Math.max(1, ...a.data.map((s) => [...s].length));
    descr = `<U${width}`;
    body = Buffer.alloc(a.data.length * width * 4);
    a.data.forEach((s, i) => {
      let j = 0;
      for (const ch of s) body.writeUInt32LE(ch.codePointAt(0)!, (i * width + j++) * 4);
    });
  } else {
    descr = DESCR[a.dtype];
    body = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  }
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

/** decodeNpy parses .npy bytes; `name` is used in errors. */
export function decodeNpy(buf: Buffer, name = 'array'): NpyArray {
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new NpzError(`${name}: not a .npy array (bad magic)`);
  const major = buf[6]!;
  const hstart = major === 1 ? 10 : 12;
  if (buf.length < hstart) throw new NpzError(`${name}: truncated .npy header`);
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  if (buf.length < hstart + hlen) throw new NpzError(`${name}: truncated .npy header`);
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new NpzError(`${name}: unreadable .npy header`);
  if (fortran === 'True') throw new NpzError(`${name}: Fortran-order arrays are not supported; save with np.ascontiguousarray`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  const body = buf.subarray(off);
  const need = (bytes: number) => {
    if (body.length < bytes) throw new NpzError(`${name}: truncated (${body.length} of ${bytes} bytes)`);
  };
  const copy = (bytes: number) => {
    need(bytes);
    const ab = new ArrayBuffer(bytes);
    new Uint8Array(ab).set(body.subarray(0, bytes));
    return ab;
  };
  switch (descr) {
    case '<f4': return { dtype: 'f4', shape, data: new Float32Array(copy(count * 4)) };
    case '<f8': return { dtype: 'f8', shape, data: new Float64Array(copy(count * 8)) };
    case '|u1': case '<u1': return { dtype: 'u1', shape, data: new Uint8Array(copy(count)) };
    case '<i4': return { dtype: 'i4', shape, data: new Int32Array(copy(count * 4)) };
  }
  const u = /^<U(\d+)$/.exec(descr);
  if (u) {
    const width = Number(u[1]);
    need(count * width * 4);
    const data: string[] = [];
    for (let i = 0; i < count; i++) {
      let s = '';
      for (let j = 0; j < width; j++) {
        const cp = body.readUInt32LE((i * width + j) * 4);
        if (cp === 0) break;
        s += String.fromCodePoint(cp);
      }
      data.push(s);
    }
    return { dtype: 'U', shape, data };
  }
  throw new NpzError(`${name}: dtype ${descr} is not supported (use float32, float64, uint8, int32 or unicode)`);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** crc32 of bytes (the zip checksum). crc32("123456789") = 0xcbf43926. */
export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const DOS_DATE_1980 = (0 << 9) | (1 << 5) | 1;

/** encodeNpz builds a deterministic .npz (stored zip) from named arrays, in the order given. */
export function encodeNpz(arrays: [string, NpyArray][]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [key, arr] of arrays) {
    const name = Buffer.from(`${key}.npy`, 'utf8');
    const data = encodeNpy(arr);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(0, 10); // time 00:00
    local.writeUInt16LE(DOS_DATE_1980, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0, 8);
    cd.writeUInt16LE(0, 10);
    cd.writeUInt16LE(0, 12);
    cd.writeUInt16LE(DOS_DATE_1980, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    central.push(cd, name);
    parts.push(local, name, data);
    offset += local.length + name.length + data.length;
    if (offset > 0xffffffff) throw new NpzError('data set larger than 4 GiB: write fewer samples per file');
  }
  const cdBuf = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(arrays.length, 8);
  eocd.writeUInt16LE(arrays.length, 10);
  eocd.writeUInt32LE(cdBuf.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cdBuf, eocd]);
}

/** decodeNpz reads every array of an .npz; throws NpzError on anything malformed. */
export function decodeNpz(buf: Buffer): Map<string, NpyArray> {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new NpzError('not an .npz file (no zip directory found); is the file complete?');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, NpyArray>();
  for (let k = 0; k < count; k++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) throw new NpzError('corrupt zip directory');
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const csize = buf.readUInt32LE(p + 20);
    const nlen = buf.readUInt16LE(p + 28);
    const elen = buf.readUInt16LE(p + 30);
    const clen = buf.readUInt16LE(p + 32);
    const loff = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nlen);
    p += 46 + nlen + elen + clen;
    if (loff + 30 > buf.length || buf.readUInt32LE(loff) !== 0x04034b50) throw new NpzError(`${name}: corrupt zip entry`);
    const start = loff + 30 + buf.readUInt16LE(loff + 26) + buf.readUInt16LE(loff + 28);
    if (start + csize > buf.length) throw new NpzError(`${name}: truncated`);
    const raw = buf.subarray(start, start + csize);
    let data: Buffer;
    if (method === 0) data = raw;
    else if (method === 8) {
      try {
        data = inflateRawSync(raw);
      } catch (e) {
        throw new NpzError(`${name}: corrupt compressed data (${(e as Error).message}); the file is damaged`);
      }
    }
    else throw new NpzError(`${name}: zip method ${method} is not supported`);
    if (crc32(data) !== crc) throw new NpzError(`${name}: checksum mismatch (the file is corrupt)`);
    out.set(name.replace(/\.npy$/, ''), decodeNpy(data, name));
  }
  return out;
}
