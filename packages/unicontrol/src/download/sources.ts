// Where the real model's files come from.
//
// The official UniControl README (github.com/salesforce/UniControl) links the v1.1 checkpoint as a
// PyTorch pickle (`https://storage.googleapis.com/sfr-unicontrol-data-research/unicontrol_v1.1.ckpt`);
// the same weights as safetensors, `unicontrol_v1.1.st`, are on the Hugging Face hub in the
// authors' model repository, which their own demo Space loads. No size or checksum is published
// beside either link, so none is pinned here: the size is checked against what the server
// declares, and the safetensors header against the file (`unicontrol info` checks the keys).

/** The UniControl v1.1 weights in safetensors format (float32, 1.4 B parameters, about 5.8 GB). */
export const WEIGHTS_URL = 'https://huggingface.co/Robert001/UniControl-Model/resolve/main/unicontrol_v1.1.st';

/** Folder URL of CLIP ViT-L/14's Hugging Face tokenizer files (UniControl's text encoder). */
export const TOKENIZER_BASE_URL = 'https://huggingface.co/openai/clip-vit-large-patch14/resolve/main/';

/** The tokenizer files fetched from `TOKENIZER_BASE_URL`: the BPE vocabulary and merge list. */
export const TOKENIZER_FILES = ['vocab.json', 'merges.txt'] as const;

/** Default folder for everything downloaded (git-ignored). */
export const DEFAULT_WEIGHTS_DIR = 'weights';
