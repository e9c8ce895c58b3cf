/**
 * A small deterministic random generator (mulberry32), so a failing generated case can be
 * repeated. Integer arithmetic throughout: a float LCG loses precision and falls into a short
 * cycle (one did after 10,466 values).
 */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
