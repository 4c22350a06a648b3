import { expect, it } from 'vitest';
import { fileCodec } from './file-codec.js';

it('detects GBK and UTF-8 bank files and writes either', () => {
  const text = 'D|1|0100000001|6228480001|张三丰|123.45\n';
  const gbk = fileCodec.encode(text, 'gbk');
  expect(gbk.length).toBeLessThan(Buffer.byteLength(text));
  expect(fileCodec.decode(gbk)).toEqual({ text, encoding: 'gbk' });
  expect(fileCodec.decode(fileCodec.encode(text, 'utf-8'))).toEqual({ text, encoding: 'utf-8' });
  expect(fileCodec.decode(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])).text).toBe(
    text,
  );
});
