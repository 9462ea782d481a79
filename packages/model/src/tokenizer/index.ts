export { ClipTokenizer, type TokenizeOptions } from './tokenizer.ts';
export { vocabFromBpeText, vocabFromGzip, vocabFromHuggingFace, CLIP_MERGE_COUNT, type BpeVocab } from './vocab.ts';
export { cleanText } from './clean.ts';
export { htmlUnescape } from './entities.ts';
export { splitWords } from './split.ts';
export { bpe } from './bpe.ts';
export { byteEncode, BYTE_TO_CHAR } from './byteUnicode.ts';
