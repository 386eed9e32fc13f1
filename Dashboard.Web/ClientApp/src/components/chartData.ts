import type uPlot from 'uplot';
import type { SeriesPoint } from '../state/dashboardStore';

/** Seconds without a sample after which the line breaks instead of joining across the outage. */
const gapSeconds = 5;

/** One instance's history as a uPlot table, with a null wherever samples stopped for a while. */
export function toTable(history: readonly SeriesPoint[], select: (point: SeriesPoint) => number | null): uPlot.AlignedData {
  const xs: number[] = [];
  const ys: (number | null)[] = [];
  for (let i = 0; i < history.length; i++) {
    const point = history[i];
    if (i > 0 && point.t - history[i - 1].t > gapSeconds) {
      xs.push(history[i - 1].t + 1);
      ys.push(null);
    }
    xs.push(point.t);
    ys.push(select(point));
  }
  return [xs, ys];
}
