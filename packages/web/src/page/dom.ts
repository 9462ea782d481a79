// Small DOM helpers for the demo page.

import type { RgbaImage } from '../lib.ts';

/** The element with id `id` (throws when the page lacks it). */
export function $<T extends HTMLElement = HTMLInputElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page has no #${id}`);
  return el as T;
}

/** Shows a message (an error in red) in the page's alert line. */
export function say(text: string, error = false): void {
  const el = $<HTMLParagraphElement>('message');
  el.textContent = text;
  el.className = error ? 'error' : '';
}

/** Lets files dropped on `zone` land in its file `input` (and fire its change event). */
export function dropZone(zone: HTMLElement, input: HTMLInputElement): void {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (!e.dataTransfer?.files.length) return;
    input.files = e.dataTransfer.files;
    input.dispatchEvent(new Event('change'));
  });
}

/** Draws an RGBA image on a canvas at its own size. */
export function draw(canvas: HTMLCanvasElement, image: RgbaImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const data = new Uint8ClampedArray(image.data.buffer as ArrayBuffer, image.data.byteOffset, image.data.byteLength);
  canvas.getContext('2d')!.putImageData(new ImageData(data, image.width, image.height), 0, 0);
}

/** Bytes as "12.3 MB". */
export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
