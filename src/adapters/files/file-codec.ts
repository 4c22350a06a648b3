import iconv from 'iconv-lite';
import type { FileCodec } from '../../app/bank-withholding.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Bank files in UTF-8 or GBK (docs/bank-batch.md). A file that decodes as strict UTF-8 is UTF-8 (GBK
 * Chinese text practically never does); anything else is read as GBK by iconv-lite.
 */
export const fileCodec: FileCodec = {
  encode(text, encoding) {
    return encoding === 'gbk' ? iconv.encode(text, 'gbk') : Buffer.from(text, 'utf8');
  },
  decode(bytes) {
    try {
      return { text: UTF8.decode(bytes), encoding: 'utf-8' };
    } catch {
      return { text: iconv.decode(bytes, 'gbk'), encoding: 'gbk' };
    }
  },
};
