// What a spreadsheet export really is, found from its first bytes: the text encoding (a byte
// order mark; else UTF-8 when the sample is valid UTF-8; else UTF-16 when chardet says so; else
// Windows-1252, which Excel writes for "CSV" on Western systems and which reads Latin-1 text the
// same) and the separator (`,`, `;` as Excel writes where the decimal mark is a comma, or tab).
// Only a bounded sample is ever held: the file itself streams through.
import { createHash } from 'node:crypto';
import chardet from 'chardet';
import iconv from 'iconv-lite';
import { SNIFF_BYTES } from './import-contract.js';

export { SNIFF_BYTES } from './import-contract.js';

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';
export type Delimiter = ',' | ';' | '\t';

export function sniffEncoding(sample: Uint8Array, complete: boolean): TextEncoding {
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return 'utf-8';
  if (sample[0] === 0xff && sample[1] === 0xfe) return 'utf-16le';
  if (sample[0] === 0xfe && sample[1] === 0xff) return 'utf-16be';
  if (isUtf8(complete ? sample : withoutPartialTail(sample))) return 'utf-8';
  const guess = chardet.detect(sample);
  if (guess === 'UTF-16LE') return 'utf-16le';
  if (guess === 'UTF-16BE') return 'utf-16be';
  return 'windows-1252';
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The sample may end inside a multi-byte character: drop an incomplete last sequence. */
function withoutPartialTail(bytes: Uint8Array): Uint8Array {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? bytes.subarray(0, bytes.length - back) : bytes;
  }
  return bytes;
}

const DELIMITERS: readonly Delimiter[] = [',', ';', '\t'];

/**
 * The separator whose count is the same on the header and most of the next lines (outside
 * quotes), the most frequent such; a comma when nothing tells.
 */
export function sniffDelimiter(text: string): Delimiter {
  const lines = splitLines(text, 20);
  let best: Delimiter = ',';
  let bestScore = 0;
  for (const d of DELIMITERS) {
    const counts = lines.map((l) => countOutsideQuotes(l, d));
    const head = counts[0] ?? 0;
    if (head === 0) continue;
    const rest = counts.slice(1);
    const agree = rest.length === 0 ? 1 : rest.filter((c) => c === head).length / rest.length;
    const score = agree >= 0.5 ? head * agree : 0;
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  return best;
}

/** Up to `max` whole records' lines (newlines inside quotes do not end one). */
function splitLines(text: string, max: number): string[] {
  const lines: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length && lines.length < max; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\n' && !quoted) {
      lines.push(text.slice(start, i).replace(/\r$/, ''));
      start = i + 1;
    }
  }
  if (lines.length < max && start < text.length) lines.push(text.slice(start));
  return lines.filter((l) => l.trim() !== '');
}

function countOutsideQuotes(line: string, d: string): number {
  let n = 0;
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === d && !quoted) n++;
  }
  return n;
}

export interface DecodedText {
  readonly encoding: TextEncoding;
  readonly delimiter: Delimiter;
  /** The file's text, chunk by chunk, without its byte order mark. */
  readonly text: AsyncIterable<string>;
  /** SHA-256 of the bytes read (hex), once `text` has been read to the end. */
  sha256(): string;
}

/** Read enough of `source` to sniff it, then stream the rest through the chosen decoder. */
export async function decodeText(source: AsyncIterable<Uint8Array>): Promise<DecodedText> {
  const it = source[Symbol.asyncIterator]();
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size < SNIFF_BYTES) {
    const next = await it.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = Buffer.from(next.value);
    hash.update(chunk);
    head.push(chunk);
    size += chunk.length;
  }
  const sample = Buffer.concat(head);
  const encoding = sniffEncoding(sample, ended);
  const decoder = iconv.getDecoder(encoding, { stripBOM: true });
  const first = decoder.write(sample);
  const delimiter = sniffDelimiter(first);
  let digest: string | undefined;

  // Line ends become \n (Windows \r\n and old Mac \r alike), so the parser counts lines the way
  // a spreadsheet numbers rows, also inside quoted cells that span lines; a \r at the end of a
  // chunk waits for the next one, which may start with its \n.
  let carry = '';
  const lf = (s: string): string => {
    let t = carry + s;
    carry = t.endsWith('\r') ? '\r' : '';
    if (carry) t = t.slice(0, -1);
    return t.replace(/\r\n?/g, '\n');
  };

  async function* text(): AsyncGenerator<string> {
    const head = lf(first);
    if (head !== '') yield head;
    if (!ended) {
      for (;;) {
        const next = await it.next();
        if (next.done) break;
        const chunk = Buffer.from(next.value);
        hash.update(chunk);
        const s = lf(decoder.write(chunk));
        if (s !== '') yield s;
      }
    }
    const tail = lf(decoder.end() ?? '') + (carry ? '\n' : '');
    if (tail) yield tail;
    digest = hash.digest('hex');
  }

  return {
    encoding,
    delimiter,
    text: text(),
    sha256() {
      if (digest === undefined) throw new Error('the text has not been read to the end');
      return digest;
    },
  };
}
