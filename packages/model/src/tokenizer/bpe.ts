/**
 * Byte-level BPE on one word, as CLIP's `SimpleTokenizer.bpe`: split the word into its stand-in
 * characters, mark the last with `</w>`, then repeatedly merge every left-to-right occurrence of
 * the adjacent pair with the lowest rank until no adjacent pair has a rank.
 *
 * @param word a pre-tokenised word already spelt with byte stand-ins (see `byteEncode`)
 * @param ranks `"first second"` → merge rank
 * @returns the word's tokens, the last ending in `</w>`
 */
export function bpe(word: string, ranks: ReadonlyMap<string, number>): string[] {
  let symbols = Array.from(word);
  symbols[symbols.length - 1] += '</w>';
  while (symbols.length > 1) {
    let best = Infinity;
    let first = '';
    let second = '';
    for (let i = 0; i + 1 < symbols.length; i++) {
      const rank = ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
      if (rank !== undefined && rank < best) {
        best = rank;
        first = symbols[i];
        second = symbols[i + 1];
      }
    }
    if (best === Infinity) break;
    const merged: string[] = [];
    for (let i = 0; i < symbols.length; i++) {
      if (symbols[i] === first && symbols[i + 1] === second) {
        merged.push(first + second);
        i++;
      } else {
        merged.push(symbols[i]);
      }
    }
    symbols = merged;
  }
  return symbols;
}
