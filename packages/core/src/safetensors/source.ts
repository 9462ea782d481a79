// Random-access byte sources: a safetensors reader pulls the header and then one tensor (or one
// chunk of one) at a time, so no code path holds the whole file in memory.

import { SafetensorsError } from './error.ts';

/**
 * Anything that can read byte ranges: a Node file, a browser Blob/File, or your own (HTTP range
 * requests, a cache). `read` must resolve to exactly `length` bytes or reject.
 */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** A name for error messages (file path, File name). */
  readonly name?: string;
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases the source (closes a file handle). */
  close?(): Promise<void>;
}

type NodeFs = typeof import('node:fs/promises');

// Loaded on first use so that browser bundles never see a static import of a Node built-in.
async function nodeFs(): Promise<NodeFs> {
  const builtin = globalThis.process?.getBuiltinModule?.('node:fs/promises') as NodeFs | undefined;
  if (builtin) return builtin;
  const specifier = 'node:fs/promises'; // a variable keeps bundlers from resolving it
  return (await import(/* @vite-ignore */ specifier)) as NodeFs;
}

/** Largest single read handed to the OS (Node's fs.read takes at most 2^31 − 1 bytes). */
const MAX_OS_READ = 1 << 30;

/** Opens a file (Node) for positioned reads. Close it with `close()` (the reader's `close()` does). */
export async function fileSource(path: string): Promise<ByteSource> {
  const fs = await nodeFs();
  const handle = await fs.open(path, 'r');
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (e) {
    await handle.close();
    throw e;
  }
  return {
    size,
    name: path,
    async read(offset, length) {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, Math.min(length - done, MAX_OS_READ), offset + done);
        if (bytesRead === 0) {
          throw new SafetensorsError(`${path}: file ended at byte ${offset + done} while reading [${offset}, ${offset + length}); did it shrink after opening?`);
        }
        done += bytesRead;
      }
      return out;
    },
    close: () => handle.close(),
  };
}

/** A source over a Blob or File (browser, or Node's global Blob): reads slices on demand. */
export function blobSource(blob: Blob): ByteSource {
  const name = typeof (blob as File).name === 'string' ? (blob as File).name : 'blob';
  return {
    size: blob.size,
    name,
    async read(offset, length) {
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

/** A source over bytes already in memory (e.g. a fetched ArrayBuffer). Reads are views, not copies. */
export function bytesSource(bytes: Uint8Array, name = 'buffer'): ByteSource {
  return {
    size: bytes.length,
    name,
    async read(offset, length) {
      return bytes.subarray(offset, offset + length);
    },
  };
}
