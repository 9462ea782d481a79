/** A file that cannot be read as an image: not a PNG, corrupt, or over the size budget. */
export class ImageError extends Error {
  override name = 'ImageError';
}
