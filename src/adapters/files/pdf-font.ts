import { existsSync } from 'node:fs';
import { AppError } from '../../app/errors.js';

/** System fonts with Chinese glyphs, in order of preference (Debian package names in comments). */
const CANDIDATES = [
  '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', // fonts-wqy-microhei
  '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', // fonts-noto-cjk
  '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', // fonts-wqy-zenhei
  '/usr/share/fonts/truetype/arphic/uming.ttc', // fonts-arphic-uming
];

export interface PdfFont {
  readonly path: string;
  /** The face inside a font collection (.ttc), as pdfkit expects it. */
  readonly family: string | undefined;
}

const FAMILIES: Readonly<Record<string, string>> = {
  'wqy-microhei.ttc': 'WenQuanYiMicroHei',
  'NotoSansCJK-Regular.ttc': 'NotoSansCJKsc-Regular',
  'wqy-zenhei.ttc': 'WenQuanYiZenHei',
  'uming.ttc': 'AR PL UMing CN',
};

/** Finds the font for Chinese PDF documents. Errors: pdf_font_missing. */
export function findPdfFont(configured: string | undefined): PdfFont {
  const path = configured ?? CANDIDATES.find((candidate) => existsSync(candidate));
  if (!path || !existsSync(path)) {
    throw new AppError(
      'pdf_font_missing',
      'no font with Chinese glyphs for PDF bills: install fonts-wqy-microhei (apt-get install fonts-wqy-microhei) or set GRIDCOLLECT_PDF_FONT',
    );
  }
  const file = path.split('/').pop() ?? '';
  return { path, family: path.endsWith('.ttc') ? FAMILIES[file] : undefined };
}
