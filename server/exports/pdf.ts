// PDF statement with pdfkit, A4 landscape (the detail table needs the width
// for full payout ids): a header (merchant, connection, period, zone,
// generated at and by), per connection section and in total the statement's
// lines (opening and closing balances or "the provider reports no balance",
// settled per status, paid, fees, reversals, in flight, unexplained
// movement), then the detail table, its column headers repeated on every
// page, and on every page "Page x of y" with who generated it and when.
//
// "Page x of y" needs y before the footers are drawn, so pages are buffered
// (bufferPages) and footed at the end. Buffered pages are the one thing that
// grows with the rows (about 50 rows a page, 1.4 KB of drawing a row); rows
// themselves are drawn as they come and dropped. To keep that bounded, the
// detail lists at most `maxDetailRows` payouts (default 10,000, about 200
// pages: the bench measured a peak RSS near 210 MB for 10,000 rows and 250–290
// MB for 20,000) and then says, on the page, how many more there are and that
// the CSV and XLSX list every one; the summary always counts every payout.
// Nothing is cut silently.
//
// Every text is drawn with embedded Noto fonts chosen per run by glyph
// coverage (pdf-fonts.ts), so currency signs (₹, ₱ …) and names in Devanagari,
// Arabic, Ge'ez, Tamil, Han … print as themselves. A table cell is one line:
// a longer text is cut to the column with "…" (the CSV and XLSX carry it whole).
import PDFDocument from "pdfkit";
import { pipeline } from "node:stream/promises";
import type { Writable } from "node:stream";
import { grouped } from "./amounts";
import { NOT_REPORTED } from "./csv";
import { baseFontSource, defaultFontsDir, FontPicker, type TextRun } from "./pdf-fonts";
import { exportTitle, summaryLines } from "./summary-lines";
import type { ExportInput, ExportRow, ExportWriter, StatementSummary } from "./types";
import { ZonedClock } from "./zoned-time";

export interface PdfOptions {
  /** Payouts listed in the detail before it stops and says how many more there are. Default 10,000. */
  maxDetailRows?: number;
  /** Where the Noto TTFs are. Default server/exports/fonts under the working directory. */
  fontsDir?: string;
}

export const DEFAULT_MAX_PDF_ROWS = 10_000;

const MARGIN = 36;
const FOOTER_GAP = 16;
const TABLE_SIZE = 6.5;
const ROW_HEIGHT = 10;
const CELL_PAD = 3;
const TEXT_SIZE = 8.5;
const LINE = 12.5;

interface Column {
  title: string;
  width: number;
  align?: "right";
  value: (row: ExportRow, clock: ZonedClock) => string;
}

function detailColumns(withConnection: boolean): Column[] {
  const columns: Column[] = [
    { title: "Created", width: 58, value: (r, c) => c.minutes(r.createdAt) },
    { title: "Finalized", width: 58, value: (r, c) => (r.finalizedAt ? c.minutes(r.finalizedAt) : "in flight") },
    { title: "Payout id", width: 136, value: (r) => r.payoutId },
    { title: "Status", width: 48, value: (r) => r.status },
    ...(withConnection ? [{ title: "Connection", width: 64, value: (r: ExportRow) => r.connectionName }] : []),
    { title: "Recipient", width: withConnection ? 80 : 100, value: (r) => r.recipientName ?? r.recipientPhone ?? r.recipientAccount ?? "" },
    { title: "Description", width: withConnection ? 70 : 104, value: (r) => r.description },
    { title: "Provider reference", width: withConnection ? 70 : 80, value: (r) => r.providerReference ?? "" },
    { title: "Amount", width: 66, align: "right", value: (r) => grouped(r.amountMinor, r.currency) },
    {
      title: "Fee",
      width: 56,
      align: "right",
      value: (r) => (r.feeMinor === null ? NOT_REPORTED : grouped(r.feeMinor, r.feeCurrency ?? r.currency)),
    },
    {
      title: "Destination",
      width: 62,
      align: "right",
      value: (r) => (r.destinationMinor !== null && r.destinationCurrency ? grouped(r.destinationMinor, r.destinationCurrency) : ""),
    },
  ];
  return columns;
}

export function createPdfWriter(options: PdfOptions = {}): ExportWriter {
  const maxRows = options.maxDetailRows ?? DEFAULT_MAX_PDF_ROWS;
  if (!Number.isInteger(maxRows) || maxRows < 0) throw new RangeError(`maxDetailRows must be a whole number, not ${maxRows}`);
  return {
    format: "pdf",
    extension: "pdf",
    contentType: "application/pdf",
    write: (input, out) => writePdf(input, out, maxRows, options.fontsDir ?? defaultFontsDir()),
  };
}

export const pdfWriter = createPdfWriter();

async function writePdf(input: ExportInput, out: Writable, maxRows: number, fontsDir: string): Promise<void> {
  const { meta } = input;
  const clock = new ZonedClock(meta.timeZone);
  const zone = meta.timeZone;
  const title = `${exportTitle(meta)} — ${meta.merchantName}`;
  const doc = new PDFDocument({
    size: "A4",
    layout: "landscape",
    margin: MARGIN,
    bufferPages: true,
    // Its first font is ours, not Helvetica: pdfkit would read Helvetica's metrics from its own
    // data folder, which a bundled server build may not carry. FontPicker draws with this same key.
    font: baseFontSource(fontsDir),
    info: {
      Title: title,
      Author: meta.generatedBy,
      Creator: "Payout desk",
      CreationDate: meta.generatedAt,
    },
  });
  const done = pipeline(doc, out);
  try {
    const page = new PageWriter(doc, new FontPicker(doc, fontsDir));
    const periodText = `${clock.minutes(meta.periodFrom)} to ${clock.minutes(meta.periodTo)} (not included), ${zone} (${clock.offsetLabel(meta.periodFrom)})`;
    const generatedText = `Generated ${clock.minutes(meta.generatedAt)} (${zone}) by ${meta.generatedBy}`;

    // Header.
    page.line(title, { size: 15, bold: true, height: 20 });
    page.line(`Connection: ${meta.connectionLabel}${meta.currency ? `     Currency: ${meta.currency}` : ""}`);
    page.line(`Period: ${periodText}`);
    if (meta.filters) page.line(`Filters: ${meta.filters}`);
    page.line(generatedText, { height: LINE + 6 });

    // Summaries.
    const blocks: Array<{ title: string; summary: StatementSummary }> = input.sections.map((s) => ({
      title: `${s.connectionName} (${s.provider}) — ${s.summary.currency}`,
      summary: s.summary,
    }));
    if (input.total && input.sections.length !== 1) blocks.push({ title: `Total — ${input.total.currency}`, summary: input.total });
    for (const block of blocks) page.summary(block.title, block.summary, clock);

    // Detail.
    const columns = detailColumns(new Set(input.sections.map((s) => s.connectionName)).size !== 1);
    page.ensure(LINE * 2 + ROW_HEIGHT * 3);
    page.line(`Detail (times in ${zone})`, { size: 10, bold: true, height: LINE + 2 });
    page.startTable(columns);
    let listed = 0;
    let notListed = 0;
    for await (const row of input.rows()) {
      if (listed >= maxRows) {
        notListed += 1; // counted, not drawn: the summary counts these too, and the note below says so
        continue;
      }
      page.tableRow(columns.map((column) => column.value(row, clock)));
      listed += 1;
    }
    page.ensure(LINE * 2);
    page.gap(4);
    if (listed === 0) page.line("No payout in this export.");
    else if (notListed === 0) page.line(`End of the detail: ${listed.toLocaleString("en-US")} payout${listed === 1 ? "" : "s"}.`);
    else {
      page.line(
        `The detail stops after ${listed.toLocaleString("en-US")} payouts: ${notListed.toLocaleString("en-US")} more are not listed here ` +
          `(a PDF lists at most ${maxRows.toLocaleString("en-US")}). The summary counts them all; the CSV and XLSX exports list every one.`,
        { bold: true },
      );
    }

    page.footers(`${meta.merchantName} · ${exportTitle(meta)} · ${meta.connectionLabel} · ${generatedText}`);
    doc.end();
  } catch (error) {
    doc.destroy(error as Error);
  }
  await done;
}

/**
 * pdfkit keeps a buffered page's content as one small array per drawing
 * operation (about six per text) until the document ends: at 50 rows of 11
 * cells a page that is tens of thousands of objects a page and hundreds of MB
 * for a few hundred pages. A finished page's pieces are joined into one
 * buffer (the same bytes; pdfkit joins and compresses them at the end anyway).
 * This reaches into pdfkit's page (`content.buffer`), which is pinned; the
 * bench's memory figure shows if it ever stops working.
 */
function compactContent(page: PDFKit.PDFPage) {
  const content = (page as unknown as { content?: { buffer?: Uint8Array[] } }).content;
  if (content?.buffer && content.buffer.length > 1) content.buffer = [Buffer.concat(content.buffer)];
}

/**
 * pdfkit remembers the glyph layout of every distinct word it has drawn, per
 * font, for the whole document; payout ids, references and amounts are
 * nearly all distinct, so that memory grows with the rows. It is emptied at
 * every page: words repeated within a page (statuses, currencies, dates) keep
 * the benefit (pdfkit's own switch, fontLayoutCache: false, made the writer
 * several times slower in a trial), and 10,000 rows peaked at 203 MB instead of 295 MB
 * (emptied every ten pages) in the same time. Also reaches into pdfkit (`_fontFamilies`, `layoutCache`).
 */
function forgetLayouts(doc: PDFKit.PDFDocument) {
  const families = (doc as unknown as { _fontFamilies?: Record<string, { layoutCache?: unknown }> })._fontFamilies ?? {};
  for (const font of Object.values(families)) if (font.layoutCache) font.layoutCache = Object.create(null);
}

/** Draws on the document top to bottom, adding pages (with the table's headers) as they fill. */
class PageWriter {
  private y: number;
  private columns: Column[] | null = null;
  private readonly left = MARGIN;
  private readonly width: number;
  private readonly bottom: number;
  private readonly ascent: number;

  constructor(
    private readonly doc: PDFKit.PDFDocument,
    private readonly fonts: FontPicker,
  ) {
    this.ascent = fonts.baseAscent();
    this.y = MARGIN;
    this.width = doc.page.width - 2 * MARGIN;
    this.bottom = doc.page.height - MARGIN - FOOTER_GAP;
  }

  gap(points: number) {
    this.y += points;
  }

  /** Makes sure `height` fits on this page, else starts the next. */
  ensure(height: number) {
    if (this.y + height <= this.bottom) return;
    compactContent(this.doc.page);
    forgetLayouts(this.doc);
    this.doc.addPage();
    this.y = MARGIN;
    if (this.columns) this.tableHeader();
  }

  line(text: string, options: { size?: number; bold?: boolean; height?: number } = {}) {
    const height = options.height ?? LINE;
    this.ensure(height);
    this.cell(text, this.left, this.y, this.width, { size: options.size ?? TEXT_SIZE, bold: options.bold });
    this.y += height;
  }

  summary(title: string, summary: StatementSummary, clock: ZonedClock) {
    const lines = summaryLines(summary);
    this.ensure(LINE * (lines.length + 2));
    this.gap(4);
    this.line(title, { size: 10, bold: true, height: LINE + 2 });
    const x = [this.left, this.left + 170, this.left + 290, this.left + 350, this.left + 450];
    const widths = [165, 115, 55, 95, this.width - 450];
    const head = ["", "Amount", "Payouts", `At (${clock.timeZone})`, ""];
    head.forEach((text, i) => this.cell(text, x[i]!, this.y, widths[i]!, { size: 7, bold: true, align: i === 1 || i === 2 ? "right" : undefined }));
    this.y += LINE - 2;
    for (const line of lines) {
      this.ensure(LINE);
      this.cell(line.label, x[0]!, this.y, widths[0]!, { bold: line.strong });
      if (line.amountMinor !== null) this.cell(grouped(line.amountMinor, summary.currency), x[1]!, this.y, widths[1]!, { align: "right", bold: line.strong });
      if (line.count !== undefined) this.cell(line.count.toLocaleString("en-US"), x[2]!, this.y, widths[2]!, { align: "right" });
      if (line.at) this.cell(clock.minutes(line.at), x[3]!, this.y, widths[3]!);
      if (line.note) this.cell(line.note, x[4]!, this.y, widths[4]!, { size: 7.5, lineSize: TEXT_SIZE });
      this.y += LINE;
    }
    this.gap(6);
  }

  startTable(columns: Column[]) {
    this.columns = columns;
    this.ensure(ROW_HEIGHT * 3);
    this.tableHeader();
  }

  private tableHeader() {
    const columns = this.columns!;
    this.doc.save().rect(this.left, this.y - 1.5, this.width, ROW_HEIGHT + 1).fill("#e8e8e8").restore();
    let x = this.left;
    for (const column of columns) {
      this.cell(column.title, x + CELL_PAD / 2, this.y, column.width - CELL_PAD, { size: TABLE_SIZE, bold: true, align: column.align });
      x += column.width;
    }
    this.y += ROW_HEIGHT + 1;
  }

  tableRow(values: string[]) {
    this.ensure(ROW_HEIGHT);
    const columns = this.columns!;
    let x = this.left;
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i]!;
      const value = values[i]!;
      if (value !== "") this.cell(value, x + CELL_PAD / 2, this.y, column.width - CELL_PAD, { size: TABLE_SIZE, align: column.align });
      x += column.width;
    }
    this.y += ROW_HEIGHT;
  }

  /** One line of text in a box `width` wide: runs of the fonts that can draw it, cut with "…" if too long. */
  cell(
    text: string,
    x: number,
    y: number,
    width: number,
    /** lineSize: the size of the line's main text, whose baseline a smaller text in it shares. */
    options: { size?: number; bold?: boolean; align?: "right"; lineSize?: number } = {},
  ) {
    const size = options.size ?? TEXT_SIZE;
    // One line: line breaks, tabs and other controls become spaces.
    const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
    let runs = this.fonts.runs(clean, options.bold);
    let textWidth = this.measure(runs, size);
    if (textWidth > width) ({ runs, width: textWidth } = this.fit(clean, width, size, options.bold));
    let cursor = options.align === "right" ? x + width - textWidth : x;
    const baseline = y + this.ascent * (options.lineSize ?? size);
    for (const run of runs) {
      const features = run.rtl ? { features: [] } : {};
      this.doc.font(run.font).fontSize(size).text(run.text, cursor, baseline, { lineBreak: false, baseline: "alphabetic", ...features });
      cursor += this.doc.widthOfString(run.text, features);
    }
  }

  private measure(runs: TextRun[], size: number): number {
    let width = 0;
    for (const run of runs) width += this.doc.font(run.font).fontSize(size).widthOfString(run.text, run.rtl ? { features: [] } : {});
    return width;
  }

  /** The longest beginning of `text` that fits in `width` with "…" after it. */
  private fit(text: string, width: number, size: number, bold?: boolean): { runs: TextRun[]; width: number } {
    const chars = Array.from(text);
    let low = 0;
    let high = chars.length;
    let best = { runs: this.fonts.runs("…", bold), width: this.measure(this.fonts.runs("…", bold), size) };
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      const runs = this.fonts.runs(`${chars.slice(0, mid).join("").trimEnd()}…`, bold);
      const measured = this.measure(runs, size);
      if (measured <= width) {
        best = { runs, width: measured };
        low = mid;
      } else {
        high = mid - 1;
      }
    }
    return best;
  }

  /** "Page x of y" and the export's identity on every page, once the number of pages is known. */
  footers(identity: string) {
    const range = this.doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i++) {
      this.doc.switchToPage(i);
      const y = this.doc.page.height - MARGIN - 4;
      // Drawing inside the bottom margin must not start a new page.
      const bottomMargin = this.doc.page.margins.bottom;
      this.doc.page.margins.bottom = 0;
      const pageText = `Page ${i - range.start + 1} of ${range.count}`;
      this.cell(identity, this.left, y, this.width - 80, { size: 7 });
      this.cell(pageText, this.left + this.width - 80, y, 80, { size: 7, align: "right" });
      this.doc.page.margins.bottom = bottomMargin;
    }
    this.doc.flushPages();
  }
}
