import { act, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { InstanceView, SeriesPoint } from '../state/dashboardStore';
import { sample } from '../test/fakeEventSource';
import { TimeSeriesChart } from './TimeSeriesChart';

// uPlot draws on a canvas, which jsdom does not have: record what the component asks of it.
const plots = vi.hoisted(() => [] as { series: string[]; data: unknown; setData: unknown[]; destroyed: boolean }[]);
vi.mock('uplot', () => {
  class FakePlot {
    static join = (tables: unknown[][]) => tables[0];
    private readonly record: (typeof plots)[number];
    constructor(options: { series: { label?: string }[] }, data: unknown) {
      this.record = { series: options.series.slice(1).map((s) => s.label ?? ''), data, setData: [], destroyed: false };
      plots.push(this.record);
    }
    setData(data: unknown) {
      this.record.setData.push(data);
    }
    setSize() {}
    destroy() {
      this.record.destroyed = true;
    }
  }
  return { default: FakePlot };
});

/** A matchMedia whose one query can be flipped; counts how often the page asked for one. */
function installMatchMedia(dark: boolean) {
  const listeners = new Set<() => void>();
  const query = {
    matches: dark,
    addEventListener: (_type: string, listener: () => void) => listeners.add(listener),
    removeEventListener: (_type: string, listener: () => void) => listeners.delete(listener),
  };
  const matchMedia = vi.fn(() => query);
  vi.stubGlobal('matchMedia', matchMedia);
  return {
    matchMedia,
    listeners,
    flip(to: boolean) {
      query.matches = to;
      listeners.forEach((listener) => listener());
    },
  };
}

function instance(instanceId: string, ts: number[]): InstanceView {
  return {
    instanceId,
    latest: { ...sample(instanceId), timestamp: ts[ts.length - 1] * 1000 },
    receivedAt: 0,
    history: ts.map((t) => ({ t, cpuPercent: t, workingSetMiB: 1, openStreams: 1, eventsPerSecond: 1 })),
  };
}

const select = (p: SeriesPoint) => p.cpuPercent;
const format = (v: number) => `${v}`;

beforeEach(() => {
  plots.length = 0;
});

afterEach(() => {
  vi.unstubAllGlobals();
});

// The colour-scheme query is made once per page (module state), so one test file covers its life.
describe('TimeSeriesChart', () => {
  it('waits for samples, builds one chart per instance set, feeds new data without rebuilding, and follows the colour scheme', () => {
    const media = installMatchMedia(false);
    const view = render(<TimeSeriesChart title="CPU" instances={[]} select={select} format={format} />);
    expect(screen.queryByText('Waiting for samples…')).not.toBeNull();
    expect(plots).toHaveLength(0);

    view.rerender(<TimeSeriesChart title="CPU" instances={[instance('a', [1, 2])]} select={select} format={format} />);
    expect(screen.queryByText('Waiting for samples…')).toBeNull();
    expect(plots).toHaveLength(1);
    expect(plots[0].series).toEqual(['a']);
    expect(plots[0].data).toEqual([
      [1, 2],
      [1, 2],
    ]);

    // New samples from the same instances: setData on the same chart.
    view.rerender(<TimeSeriesChart title="CPU" instances={[instance('a', [1, 2, 3])]} select={select} format={format} />);
    expect(plots).toHaveLength(1);
    expect(plots[0].setData.at(-1)).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);

    // Another instance: a new chart, made with the data of that render.
    view.rerender(<TimeSeriesChart title="CPU" instances={[instance('a', [1, 2, 3, 4]), instance('b', [4])]} select={select} format={format} />);
    expect(plots).toHaveLength(2);
    expect(plots[0].destroyed).toBe(true);
    expect(plots[1].series).toEqual(['a', 'b']);
    expect(plots[1].data).toEqual([
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ]);

    // A second chart and many renders share one MediaQueryList.
    render(<TimeSeriesChart title="Memory" instances={[instance('a', [1])]} select={select} format={format} />);
    expect(media.matchMedia).toHaveBeenCalledTimes(1);
    expect(media.listeners.size).toBe(2);

    // The scheme flips: both charts are drawn again with the new palette.
    act(() => media.flip(true));
    expect(plots).toHaveLength(5);
    expect(plots.filter((plot) => !plot.destroyed)).toHaveLength(2);
    expect(media.matchMedia).toHaveBeenCalledTimes(1);

    view.unmount();
    expect(media.listeners.size).toBe(1);
  });
});
