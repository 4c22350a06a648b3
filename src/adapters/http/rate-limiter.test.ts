import { expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.js';

it('allows a second’s burst, then the rate, per key', () => {
  let now = 0;
  const limiter = new RateLimiter(() => now);
  const taken = () => Array.from({ length: 10 }, () => limiter.take('a', 5)).filter(Boolean).length;
  expect(taken()).toBe(5);
  expect(limiter.take('b', 5)).toBe(true);
  now += 400;
  expect(taken()).toBe(2);
});
