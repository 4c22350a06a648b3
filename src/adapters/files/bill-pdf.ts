import PDFDocument from 'pdfkit';
import type { AreaBillList, BillDocument } from '../../app/queries/bill-document.js';
import type { ReceiptDocument } from '../../app/queries/receipt-document.js';
import type { PdfFont } from './pdf-font.js';

const MARGIN = 40;

function newDocument(font: PdfFont, title: string): PDFKit.PDFDocument {
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    info: { Title: title, Producer: 'GridCollect' },
  });
  doc.registerFont('cn', font.path, font.family);
  doc.font('cn');
  return doc;
}

function toBuffer(doc: PDFKit.PDFDocument): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.end();
  });
}

/** Draws a simple ruled table and returns the y below it; starts a new page when one fills up. */
function drawTable(
  doc: PDFKit.PDFDocument,
  headers: readonly string[],
  widths: readonly number[],
  rows: readonly (readonly string[])[],
  fontSize = 9,
): void {
  const rowHeight = fontSize + 8;
  const left = MARGIN;
  const bottom = doc.page.height - MARGIN - rowHeight;
  const drawRow = (cells: readonly string[], bold: boolean) => {
    let x = left;
    const y = doc.y;
    if (bold)
      doc
        .rect(
          left,
          y - 2,
          widths.reduce((a, b) => a + b, 0),
          rowHeight,
        )
        .fill('#eef2f7')
        .fillColor('#000');
    cells.forEach((cell, k) => {
      doc
        .fontSize(fontSize)
        .text(cell, x + 3, y + 2, { width: widths[k]! - 6, lineBreak: false, ellipsis: true });
      x += widths[k]!;
    });
    doc
      .moveTo(left, y + rowHeight - 2)
      .lineTo(x, y + rowHeight - 2)
      .lineWidth(0.3)
      .strokeColor('#999')
      .stroke();
    doc.x = left;
    doc.y = y + rowHeight;
  };
  drawRow(headers, true);
  for (const row of rows) {
    if (doc.y > bottom) {
      doc.addPage();
      drawRow(headers, true);
    }
    drawRow(row, false);
  }
  doc.moveDown(0.5);
}

/** One customer's bill (电费通知单) in Chinese. */
export function renderBillPdf(bill: BillDocument, font: PdfFont): Promise<Buffer> {
  const doc = newDocument(font, `电费通知单 ${bill.customer.customerNo} ${bill.bill.period}`);
  doc.fontSize(16).text(`${bill.county} 电费通知单`, { align: 'center' });
  doc
    .fontSize(10)
    .text(
      `电费年月 ${bill.bill.period}    账单号 ${bill.bill.billNo ?? '（未发行）'}${bill.bill.revision > 1 ? `    退补第${bill.bill.revision - 1}次` : ''}`,
      { align: 'center' },
    );
  doc.moveDown();
  const info: [string, string][] = [
    ['户号', bill.customer.customerNo],
    ['户名', bill.customer.name],
    ['用电地址', bill.customer.address],
    ['用电类别', `${bill.customer.category}  ·  ${bill.customer.tariff}`],
    ['供电所 / 台区', `${bill.station} / ${bill.transformerArea}`],
    ['发行日期 / 缴费期限', `${bill.bill.releasedOn ?? '—'} / ${bill.bill.dueOn ?? '—'}`],
  ];
  for (const [label, value] of info) doc.fontSize(10).text(`${label}：${value}`);
  doc.moveDown(0.5);
  doc.fontSize(11).text('抄见示数');
  drawTable(
    doc,
    ['电能表', '倍率', '示数类型', '上次示数', '本次示数'],
    [140, 50, 70, 120, 120],
    bill.reads.map((read) => [
      read.meterNo,
      String(read.multiplier),
      read.register,
      read.previous ?? '—',
      read.current ?? '—',
    ]),
  );
  doc.fontSize(11).text('电费明细');
  drawTable(
    doc,
    ['项目', '电量 (kWh)', '单价 (元)', '金额 (元)'],
    [220, 100, 90, 100],
    bill.lines.map((line) => [line.label, line.kwh ?? '', line.price ?? '', line.amount]),
  );
  if (bill.pf)
    doc
      .fontSize(10)
      .text(`功率因数 实际 ${bill.pf.actual} / 标准 ${bill.pf.standard}，调整 ${bill.pf.percent}%`);
  doc
    .fontSize(10)
    .text(`合计电量 ${bill.totalKwh} kWh    其中代征政府性基金及附加 ¥${bill.funds}（已含在电度电价中）`);
  doc.fontSize(13).text(`应缴电费合计 ¥${bill.total}（大写：${bill.totalInWords}）`);
  doc.moveDown();
  doc
    .fontSize(10)
    .text(
      '缴费方式：供电所营业厅坐收；微信、支付宝、网上国网等代收；签约银行代扣；台区经理上门收费（请索取收费凭证）。',
    );
  if (bill.areaManager)
    doc.text(
      `台区经理：${bill.areaManager.name}${bill.areaManager.phone ? `  电话 ${bill.areaManager.phone}` : ''}`,
    );
  doc.text('请在缴费期限前缴清电费，逾期将按《供电营业规则》加收电费违约金。');
  return toBuffer(doc);
}

/** A transformer area's bill list (台区电费清单) for the rural electrician's rounds. */
export function renderAreaBillListPdf(list: AreaBillList, font: PdfFont): Promise<Buffer> {
  const doc = newDocument(font, `台区电费清单 ${list.transformerArea} ${list.period}`);
  doc.fontSize(15).text(`${list.county} ${list.station} 台区电费清单`, { align: 'center' });
  doc
    .fontSize(10)
    .text(
      `台区 ${list.transformerArea}    电费年月 ${list.period}    台区经理 ${list.areaManager ?? '—'}    共 ${list.rows.length} 户，合计 ¥${list.total}`,
      { align: 'center' },
    );
  doc.moveDown();
  drawTable(
    doc,
    ['户号', '户名', '地址', '电量', '金额 (元)', '缴费期限', '签收'],
    [70, 60, 170, 55, 65, 60, 35],
    list.rows.map((row) => [row.customerNo, row.name, row.address, row.kwh, row.amount, row.dueOn ?? '', '']),
    8,
  );
  return toBuffer(doc);
}

/** A payment's electronic receipt (电费电子收费凭证) in Chinese. */
export function renderReceiptPdf(receipt: ReceiptDocument, font: PdfFont, timeZone: string): Promise<Buffer> {
  // The paying time in the utility's zone, by Intl (never by hand).
  const paidAt = new Intl.DateTimeFormat('zh-CN', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  }).format(receipt.paidAt);
  const doc = newDocument(font, `电费收费凭证 ${receipt.receiptNo}`);
  doc.fontSize(16).text(`${receipt.county} 电费电子收费凭证`, { align: 'center' });
  doc.fontSize(10).text(`凭证号 ${receipt.receiptNo}`, { align: 'center' });
  if (receipt.reversed)
    doc
      .fontSize(12)
      .fillColor('#b00020')
      .text(`已冲正（${receipt.reversed.at.toISOString().slice(0, 10)}：${receipt.reversed.reason}）`, {
        align: 'center',
      })
      .fillColor('#000');
  doc.moveDown();
  const info: [string, string][] = [
    ['户号', receipt.customer.customerNo],
    ['户名', receipt.customer.name],
    ['用电地址', receipt.customer.address],
    ['缴费时间', paidAt],
    ['营业日', receipt.businessDate],
    ['缴费渠道', receipt.channel],
    ...(receipt.operator ? ([['收费员', receipt.operator]] as [string, string][]) : []),
  ];
  for (const [label, value] of info) doc.fontSize(10).text(`${label}：${value}`);
  doc.moveDown(0.5);
  drawTable(
    doc,
    ['账单号', '电费年月', '项目', '金额 (元)'],
    [200, 80, 110, 110],
    [
      ...receipt.lines.map((line) => [line.billNo, line.period, line.item, line.amount]),
      ...(receipt.prepaid !== '0.00' ? [['', '', '预收电费', receipt.prepaid]] : []),
    ],
  );
  doc.fontSize(13).text(`实收金额 ¥${receipt.amount}（大写：${receipt.amountInWords}）`);
  doc.moveDown();
  doc.fontSize(9).text('本凭证由系统根据收费记录生成，可作为缴费证明。如有疑问请联系所属供电所。');
  return toBuffer(doc);
}
