// Which embedded font draws which character of a text. A PDF has no font
// fallback of its own: a character missing from the chosen font prints as an
// empty box. Each text is split into runs, each drawn with the first font (in
// the order below) that has a glyph for it; combining marks, joiners and
// spaces stay in the run they belong to, so Indic clusters and Arabic words
// are shaped as one (pdfkit shapes each run with fontkit).
//
// The files are in ./fonts (origin, licences and what each covers: ./fonts/README.md).
// They are read from disk once per process and only when first needed: the
// 10.5 MB Han font is never read for a statement with no Chinese text.
import { readFileSync } from "node:fs";
import path from "node:path";

export interface FontFile {
  name: string;
  file: string;
  /** Drawn right to left: laid out as a whole run, which fontkit mirrors (pdfkit does no bidi of its own). */
  rtl?: boolean;
}

export const BASE_FONT: FontFile = { name: "NotoSans", file: "NotoSans-Regular.ttf" };
export const BOLD_FONT: FontFile = { name: "NotoSans-Bold", file: "NotoSans-Bold.ttf" };

/** Tried in order after the base font (Latin, Greek, Cyrillic, Devanagari, currency signs). */
export const FALLBACK_FONTS: FontFile[] = [
  { name: "NotoSansArabic", file: "NotoSansArabic-Regular.ttf", rtl: true },
  { name: "NotoSansHebrew", file: "NotoSansHebrew-Regular.ttf", rtl: true },
  { name: "NotoSansEthiopic", file: "NotoSansEthiopic-Regular.ttf" },
  { name: "NotoSansBengali", file: "NotoSansBengali-Regular.ttf" },
  { name: "NotoSansTamil", file: "NotoSansTamil-Regular.ttf" },
  { name: "NotoSansTelugu", file: "NotoSansTelugu-Regular.ttf" },
  { name: "NotoSansGujarati", file: "NotoSansGujarati-Regular.ttf" },
  { name: "NotoSansGurmukhi", file: "NotoSansGurmukhi-Regular.ttf" },
  { name: "NotoSansKannada", file: "NotoSansKannada-Regular.ttf" },
  { name: "NotoSansMalayalam", file: "NotoSansMalayalam-Regular.ttf" },
  { name: "NotoSansThai", file: "NotoSansThai-Regular.ttf" },
  { name: "NotoSansSC", file: "NotoSansSC-Regular.ttf" },
];

/** Where the font files are: the project's server/exports/fonts (the server and scripts run from the project root). */
export function defaultFontsDir(): string {
  return path.join(process.cwd(), "server", "exports", "fonts");
}

/**
 * The document's first font, given to `new PDFDocument({ font })`, and the
 * key every base-font text is drawn with. It must be this same path string:
 * pdfkit caches an opened font under the key it was asked for, except when
 * a font of the same PostScript name is already open, so asking for the base
 * font under another name (a registered alias) would parse it anew for every
 * text drawn (a 10,000-row PDF took 176 s instead of 5).
 */
export function baseFontSource(dir: string = defaultFontsDir()): string {
  // The fonts are read from the project folder at run time (never bundled): nothing for the build to trace.
  return path.join(/*turbopackIgnore: true*/ dir, BASE_FONT.file);
}

const fileCache = new Map<string, Buffer>();

function fontBytes(dir: string, file: string): Buffer {
  const key = path.join(/*turbopackIgnore: true*/ dir, file);
  let bytes = fileCache.get(key);
  if (!bytes) {
    bytes = readFileSync(key);
    fileCache.set(key, bytes);
  }
  return bytes;
}

export interface TextRun {
  font: string;
  text: string;
  /**
   * Right to left (Arabic, Hebrew): pdfkit lays out word by word, leaving each
   * word's trailing space on the wrong side once fontkit mirrors it; such a
   * run must be laid out whole (pdfkit does that when given OpenType features).
   */
  rtl?: boolean;
}

/** The part of a fontkit font this needs (pdfkit keeps it as `font` on its embedded font). */
interface GlyphSource {
  hasGlyphForCodePoint(codePoint: number): boolean;
  ascent: number;
  unitsPerEm: number;
}

// Characters that belong to the run around them rather than choosing a font
// of their own: whitespace, combining marks, ZWNJ/ZWJ and variation selectors.
const CLINGS = /[\s\p{M}\u200c\u200d\ufe00-\ufe0f]/u;
const PLAIN = /^[\x20-\x7e]*$/;

/** Per process: which font index (0 base, 1.. fallbacks, -1 none) has a code point. */
const coverage = new Map<number, number>();

export class FontPicker {
  private readonly sources: Array<GlyphSource | null>;
  private readonly registered = new Set<string>();
  /** The document's own first font (see baseFontSource). */
  private readonly base: string;

  /** `doc` must have been created with `font: baseFontSource(dir)`. */
  constructor(
    private readonly doc: PDFKit.PDFDocument,
    private readonly dir: string = defaultFontsDir(),
  ) {
    this.base = baseFontSource(dir);
    this.register(BOLD_FONT);
    this.sources = [this.glyphSource(BASE_FONT), ...FALLBACK_FONTS.map(() => null)];
  }

  private key(font: FontFile): string {
    return font === BASE_FONT ? this.base : font.name;
  }

  private register(font: FontFile) {
    if (font === BASE_FONT || this.registered.has(font.name)) return;
    this.doc.registerFont(font.name, fontBytes(this.dir, font.file));
    this.registered.add(font.name);
  }

  private glyphSource(font: FontFile): GlyphSource {
    this.register(font);
    // This changes the document's current font: the writer names the font of every text it draws.
    this.doc.font(this.key(font));
    // pdfkit's embedded font keeps the fontkit font it parsed as `.font` (pdfkit is pinned; its tests cover this).
    return (this.doc as unknown as { _font: { font: GlyphSource } })._font.font;
  }

  private source(index: number): GlyphSource {
    let source = this.sources[index];
    if (!source) {
      source = this.glyphSource(index === 0 ? BASE_FONT : FALLBACK_FONTS[index - 1]!);
      this.sources[index] = source;
    }
    return source;
  }

  private fontIndexFor(codePoint: number): number {
    const known = coverage.get(codePoint);
    if (known !== undefined) return known;
    let found = -1;
    for (let i = 0; i < this.sources.length; i++) {
      if (this.source(i).hasGlyphForCodePoint(codePoint)) {
        found = i;
        break;
      }
    }
    coverage.set(codePoint, found);
    return found;
  }

  /** The font (registered in the document) to draw a run of font index `index` with. */
  private fontName(index: number, bold: boolean): string {
    if (index <= 0) return bold ? BOLD_FONT.name : this.base;
    const font = FALLBACK_FONTS[index - 1]!;
    this.register(font);
    return font.name;
  }

  /**
   * Where the base font's baseline lies below the top of a line, per point of
   * font size. Fonts differ in ascent (the Han font's is taller), so runs of
   * several fonts are drawn on this one baseline, not each from the line's top.
   */
  baseAscent(): number {
    const base = this.source(0);
    return base.ascent / base.unitsPerEm;
  }

  /** `text` split into runs by the font that can draw them, in display order. */
  runs(text: string, bold = false): TextRun[] {
    if (PLAIN.test(text)) return text === "" ? [] : [{ font: bold ? BOLD_FONT.name : this.base, text }];
    const runs: Array<{ index: number; text: string }> = [];
    let current: { index: number; text: string } | null = null;
    for (const char of text) {
      const codePoint = char.codePointAt(0)!;
      if (current && CLINGS.test(char) && (current.index === 0 || this.source(current.index).hasGlyphForCodePoint(codePoint))) {
        current.text += char;
        continue;
      }
      // A character no font has is drawn with the base font: its empty box shows something is missing.
      const index = Math.max(0, this.fontIndexFor(codePoint));
      if (current && current.index === index) {
        current.text += char;
      } else {
        current = { index, text: char };
        runs.push(current);
      }
    }
    return runs.map((run) => {
      const font = run.index > 0 ? FALLBACK_FONTS[run.index - 1]! : null;
      const name = this.fontName(run.index, bold);
      return font?.rtl ? { font: name, text: run.text, rtl: true } : { font: name, text: run.text };
    });
  }
}

