import { describe, expect, it } from 'vitest';
import type { SeriesPoint } from '../state/dashboardStore';
import { toTable } from './chartData';

const point = (t: number, cpu: number | null): SeriesPoint => ({ t, cpuPercent: cpu, workingSetMiB: 1, openStreams: 1, eventsPerSecond: 1 });

describe('toTable', () => {
  it('keeps consecutive samples joined and breaks the line across an outage', () => {
    const table = toTable([point(10, 1), point(11, 2), point(12, 3), point(30, 4), point(31, 5)], (p) => p.cpuPercent);
    expect(table).toEqual([
      [10, 11, 12, 13, 30, 31],
      [1, 2, 3, null, 4, 5],
    ]);
  });

  it('handles an empty history', () => {
    expect(toTable([], (p) => p.cpuPercent)).toEqual([[], []]);
  });
});
