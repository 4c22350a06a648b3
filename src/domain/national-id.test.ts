import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidNationalId, maskNationalId, nationalIdCheckChar } from './national-id.js';

describe('national id', () => {
  it.each([
    ['11010519491231002', 'X'],
    ['44052418800101001', '4'],
  ])('check character of %s is %s', (body, check) => {
    expect(nationalIdCheckChar(body)).toBe(check);
  });

  it('accepts a number with its own check character and refuses any single-digit change', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^\d{17}$/),
        fc.integer({ min: 0, max: 16 }),
        fc.integer({ min: 1, max: 9 }),
        (body, position, delta) => {
          const id = body + nationalIdCheckChar(body);
          expect(isValidNationalId(id)).toBe(true);
          const changed =
            body.slice(0, position) + ((Number(body[position]) + delta) % 10) + body.slice(position + 1);
          expect(isValidNationalId(changed + id[17])).toBe(false);
        },
      ),
    );
  });

  it('masks all but the first and last four characters', () => {
    expect(maskNationalId('11010519491231002X')).toBe('1101**********002X');
  });
});
