import type { InstanceView } from '../state/dashboardStore';
import { formatBytes, formatNumber, formatPercent } from '../format';

interface Card {
  key: string;
  label: string;
  value: string;
  detail: string;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function average(values: (number | null)[]): number | null {
  const known = values.filter((value): value is number => value !== null);
  return known.length === 0 ? null : sum(known) / known.length;
}

export function buildCards(instances: readonly InstanceView[]): Card[] {
  const samples = instances.map((instance) => instance.latest);
  const count = samples.length;
  const across = count === 1 ? '1 instance' : `${count} instances`;
  const hostCpu = average(samples.map((s) => s.host.cpuPercent));
  const memoryUsed = samples.map((s) => s.host.memoryUsedBytes).find((v) => v !== null) ?? null;
  const memoryLimit = samples.map((s) => s.host.memoryLimitBytes).find((v) => v !== null) ?? null;
  const cores = samples[0]?.host.cpuLimitCores;

  return [
    {
      key: 'cpu',
      label: 'CPU',
      value: count ? formatPercent(average(samples.map((s) => s.process.cpuPercent))) : '–',
      detail: count ? `process avg · host ${formatPercent(hostCpu)}${cores ? ` of ${formatNumber(cores, cores % 1 ? 1 : 0)} cores` : ''}` : 'no data yet',
    },
    {
      key: 'memory',
      label: 'Memory',
      value: count ? formatBytes(sum(samples.map((s) => s.process.workingSetBytes))) : '–',
      detail: count
        ? `working set · GC heap ${formatBytes(sum(samples.map((s) => s.process.gcHeapBytes)))}${memoryUsed !== null ? ` · host ${formatBytes(memoryUsed)}${memoryLimit !== null ? ` / ${formatBytes(memoryLimit)}` : ''}` : ''}`
        : 'no data yet',
    },
    {
      key: 'users',
      label: 'Active users',
      value: count ? formatNumber(sum(samples.map((s) => s.streams.users))) : '–',
      detail: count ? `with an open stream · ${across}` : 'no data yet',
    },
    {
      key: 'streams',
      label: 'Open streams',
      value: count ? formatNumber(sum(samples.map((s) => s.streams.open))) : '–',
      detail: count ? `thread-pool queue ${formatNumber(sum(samples.map((s) => s.process.threadPoolQueueLength)))}` : 'no data yet',
    },
    {
      key: 'events',
      label: 'Events/s',
      value: count ? formatNumber(sum(samples.map((s) => s.streams.eventsPerSecond)), 1) : '–',
      detail: count ? `written to streams · ${across}` : 'no data yet',
    },
  ];
}

export function MetricCards({ instances, stale }: { instances: readonly InstanceView[]; stale: boolean }) {
  return (
    <section className={`cards${stale ? ' stale' : ''}`} aria-label="Current values">
      {buildCards(instances).map((card) => (
        <article className="card" key={card.key} data-testid={`card-${card.key}`}>
          <h2>{card.label}</h2>
          <p className="card-value" data-testid={`card-${card.key}-value`}>
            {card.value}
          </p>
          <p className="card-detail">{card.detail}</p>
        </article>
      ))}
    </section>
  );
}
