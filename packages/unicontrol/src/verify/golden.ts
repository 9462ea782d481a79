import { openSafetensors, tensor, type ByteSource, type Device, type SafetensorsReader, type Tensor } from '@unicontrol/core';

/** A golden tensor on the CPU: float32, int32 or uint8 values. */
export interface HostTensor {
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

/** The oracle's `golden.safetensors`: case inputs and expected outputs, read on demand. */
export class GoldenSet {
  private constructor(private readonly reader: SafetensorsReader) {}

  /** A path (Node), a Blob, or a ByteSource (e.g. streamed from a URL). */
  static async open(source: string | Blob | ByteSource): Promise<GoldenSet> {
    return new GoldenSet(await openSafetensors(source));
  }

  has(name: string): boolean {
    return this.reader.has(name);
  }

  async host(name: string): Promise<HostTensor> {
    if (!this.reader.has(name)) throw new Error(`golden tensor ${JSON.stringify(name)} is missing from ${this.reader.where}`);
    const entry = this.reader.get(name);
    const bytes = await this.reader.read(name);
    const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const shape = [...entry.shape];
    switch (entry.dtype) {
      case 'F32':
        return { shape, data: new Float32Array(buf) };
      case 'I32':
        return { shape, data: new Int32Array(buf) };
      case 'U8':
        return { shape, data: new Uint8Array(buf) };
      default:
        throw new Error(`golden tensor ${name} has dtype ${entry.dtype}; the verifier reads F32, I32 and U8`);
    }
  }

  /** Uploads golden tensor `name`: ids stay i32 when `ids` is set, everything else becomes f32. */
  async tensor(device: Device, name: string, { ids = false }: { ids?: boolean } = {}): Promise<Tensor> {
    const h = await this.host(name);
    if (ids) return tensor(device, h.data instanceof Int32Array ? h.data : Int32Array.from(h.data), h.shape, { dtype: 'i32' });
    return tensor(device, h.data instanceof Float32Array ? h.data : Float32Array.from(h.data), h.shape);
  }

  async close(): Promise<void> {
    await this.reader.close();
  }
}
