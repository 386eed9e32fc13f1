import { useEffect, useEffectEvent, useMemo, useRef, useSyncExternalStore } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { InstanceView, SeriesPoint } from '../state/dashboardStore';
import { toTable } from './chartData';

export interface TimeSeriesChartProps {
  title: string;
  instances: readonly InstanceView[];
  select: (point: SeriesPoint) => number | null;
  format: (value: number) => string;
  height?: number;
}

const seriesVariables = ['--series-1', '--series-2', '--series-3', '--series-4', '--series-5', '--series-6'];

function cssVariable(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

// One MediaQueryList for the page, made on first use (none where matchMedia is missing, e.g. jsdom).
let darkSchemeQuery: MediaQueryList | null | undefined;

function darkScheme(): MediaQueryList | null {
  if (darkSchemeQuery === undefined) {
    darkSchemeQuery =
      typeof window !== 'undefined' && typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  }
  return darkSchemeQuery;
}

function subscribeToColorScheme(onChange: () => void): () => void {
  const query = darkScheme();
  query?.addEventListener('change', onChange);
  return () => query?.removeEventListener('change', onChange);
}

const prefersDark = () => darkScheme()?.matches ?? false;

/** Re-renders when the colour scheme flips, so the canvas picks up the new palette. */
function useColorScheme(): 'light' | 'dark' {
  return useSyncExternalStore(subscribeToColorScheme, prefersDark, () => false) ? 'dark' : 'light';
}

/** One line per Metrics.Api instance over the store's window (a few minutes), drawn by uPlot. */
export function TimeSeriesChart({ title, instances, select, format, height = 180 }: TimeSeriesChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const scheme = useColorScheme();
  const ids = instances.map((instance) => instance.instanceId).join('|');

  const data = useMemo<uPlot.AlignedData>(() => (instances.length === 0 ? [[]] : uPlot.join(instances.map((i) => toTable(i.history, select)))), [
    instances,
    select,
  ]);

  // The chart starts with the data of the render that (re)creates it; later data goes through setData.
  const currentData = useEffectEvent(() => data);

  // (Re)create the chart when the set of instances, the colour scheme or the format changes.
  useEffect(() => {
    // No element while there is no instance (the page shows "Waiting for samples…").
    const element = container.current;
    if (!element) {
      return undefined;
    }
    const axis = cssVariable('--muted', '#6b7280');
    const grid = cssVariable('--grid', 'rgba(128,128,128,0.15)');
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 200),
      height,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, (max ?? 1) * 1.1)] } },
      axes: [
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
        {
          stroke: axis,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          size: 76,
          values: (_u, splits) => splits.map((value) => format(value)),
        },
      ],
      series: [
        {},
        ...ids.split('|').map((id, index) => ({
          label: id,
          stroke: cssVariable(seriesVariables[index % seriesVariables.length], '#3b82f6'),
          width: 2,
          // Explicit nulls (an outage) break the line; join()'s alignment fill does not.
          spanGaps: false,
          points: { show: false },
          value: (_u: uPlot, value: number | null) => (value === null || value === undefined ? '–' : format(value)),
        })),
      ],
    };
    const plot = new uPlot(options, currentData(), element);
    chart.current = plot;

    const observer =
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 200), height }));
    observer?.observe(element);
    return () => {
      observer?.disconnect();
      plot.destroy();
      chart.current = null;
    };
  }, [ids, scheme, height, format]);

  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);

  return (
    <figure className="panel chart">
      <figcaption className="panel-header">
        <h2>{title}</h2>
      </figcaption>
      {instances.length === 0 ? <p className="muted empty">Waiting for samples…</p> : <div ref={container} className="chart-canvas" />}
    </figure>
  );
}
