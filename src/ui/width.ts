/**
 * How many terminal columns text takes: CJK and emoji take two, combining marks and format characters
 * none. Server and model text (a voice, a tool name, an error) is measured with this before the status
 * line is cut to the terminal's width, so a wide character never makes a line wrap. Pure. When a
 * terminal's own idea differs (an emoji with VS16), this errs on the wide side: a line may end a column
 * early, never a column late.
 */

/** East Asian Wide and Fullwidth (Unicode UAX #11), and emoji shown as pictures. */
const WIDE =
  /[\u1100-\u115f\u231a\u231b\u2329\u232a\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6\u{16fe0}-\u{1b2ff}\u{1f200}-\u{1f2ff}\u{20000}-\u{3fffd}]|\p{Emoji_Presentation}/u;
/** Combining marks, format characters (zero-width space and joiners, bidi marks), Hangul medial vowels. */
const ZERO = /[\p{Mn}\p{Me}\p{Cf}\u1160-\u11ff]/u;
const SGR = /\x1b\[[0-9;?]*[A-Za-z]/g;
const VS16 = 0xfe0f;

/** Columns of one character (a code point); `previous` is the width of the one before it (for VS16). */
export function charWidth(char: string, previous = 0): number {
  // VS16 asks for the picture form: the character before it is drawn two columns wide.
  if (char.codePointAt(0) === VS16) return previous === 1 ? 1 : 0;
  if (ZERO.test(char)) return 0;
  return WIDE.test(char) ? 2 : 1;
}

/** Columns of a line (colour escapes take none). */
export function displayWidth(text: string): number {
  let width = 0;
  let previous = 0;
  for (const char of text.replace(SGR, '')) {
    previous = charWidth(char, previous);
    width += previous;
  }
  return width;
}
