// Live: what the gateway served each second over the last five minutes, from GET /v1/live (which
// the gateway computes from its own metrics), polled every second.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { ApiError, getJson, type LivePoint } from '../api.js';
import { ErrorBox } from '../answer.js';
import { Chart } from '../chart.js';


/** Five minutes at one point a second, as the gateway keeps. */
const KEEP = 300;
const POLL_MS = 1000;

function usePoints(): { points: readonly LivePoint[]; error: ApiError | null } {
  const [points, setPoints] = useState<readonly LivePoint[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let last = 0;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const body = await getJson<{ points: LivePoint[] }>(`v1/live?since=${last}`);
        if (stopped) return;
        setError(null);
        if (body.points.length > 0) {
          last = body.points[body.points.length - 1]!.t;
          setPoints((old) => [...old, ...body.points].slice(-KEEP));
        }
      } catch (err) {
        if (stopped) return;
        setError(err instanceof ApiError ? err : new ApiError(0, 'ERROR', String(err)));
        // Metrics are off: nothing will change until the gateway restarts, so stop asking.
        if (err instanceof ApiError && err.code === 'LIVE_NOT_AVAILABLE') return;
      }
      timer = setTimeout(poll, POLL_MS);
    };
    poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  return { points, error };
}

const fmt = (v: number | null | undefined, digits: number, suffix = '') =>
  v === null || v === undefined ? '—' : `${v.toFixed(digits)}${suffix}`;

export function LivePage() {
  const { points, error } = usePoints();
  const last = points[points.length - 1];
  const series = useMemo(() => {
    const x = points.map((p) => p.t / 1000);
    const col = (f: (p: LivePoint) => number | null) => points.map(f);
    return {
      rps: [x, col((p) => p.requests_per_second)] as uPlot.AlignedData,
      latency: [x, col((p) => p.p50_ms), col((p) => p.p99_ms)] as uPlot.AlignedData,
      errors: [x, col((p) => p.client_errors_per_second), col((p) => p.server_errors_per_second)] as uPlot.AlignedData,
      cache: [x, col((p) => (p.cache_hit_ratio === null ? null : p.cache_hit_ratio * 100))] as uPlot.AlignedData,
      batch: [x, col((p) => p.batch_rows_mean)] as uPlot.AlignedData,
    };
  }, [points]);

  if (error?.code === 'LIVE_NOT_AVAILABLE')
    return (
      <p class="error-box" role="status">
        Live statistics are not available on this gateway: {error.message}.
      </p>
    );
  return (
    <>
      <ErrorBox error={error} />
      <p class="muted">
        Prediction requests (HTTP, Open Inference Protocol and WebSocket frames) each second, from the gateway's own
        metrics; updated every second.
      </p>
      <dl class="tiles" aria-label="The last second">
        <Tile label="Requests / s" id="live-rps" value={fmt(last?.requests_per_second, 0)} />
        <Tile label="Latency p50" id="live-p50" value={fmt(last?.p50_ms, 2, ' ms')} />
        <Tile label="Latency p99" id="live-p99" value={fmt(last?.p99_ms, 2, ' ms')} />
        <Tile
          label="Errors / s"
          id="live-errors"
          value={last ? fmt(last.client_errors_per_second + last.server_errors_per_second, 0) : '—'}
        />
        <Tile
          label="Cache hit ratio"
          id="live-cache"
          value={fmt(last?.cache_hit_ratio == null ? null : last.cache_hit_ratio * 100, 0, ' %')}
        />
        <Tile label="Rows per batch" id="live-batch" value={fmt(last?.batch_rows_mean, 1)} />
      </dl>
      <div class="charts">
        <Chart title="Throughput" unit="requests / s" series={[{ label: 'requests/s', color: '#0b5cad' }]} data={series.rps} />
        <Chart
          title="Latency"
          unit="ms"
          series={[
            { label: 'p50', color: '#1a7f37' },
            { label: 'p99', color: '#cf222e' },
          ]}
          data={series.latency}
        />
        <Chart
          title="Errors"
          unit="per second"
          series={[
            { label: 'client (4xx)', color: '#9a6700' },
            { label: 'server (5xx)', color: '#cf222e' },
          ]}
          data={series.errors}
        />
        <Chart title="Cache hit ratio" unit="%" series={[{ label: 'hits', color: '#8250df' }]} data={series.cache} />
        <Chart title="Batch size" unit="rows per run" series={[{ label: 'rows', color: '#0b5cad' }]} data={series.batch} />
      </div>
    </>
  );
}

function Tile({ label, id, value }: { label: string; id: string; value: string }) {
  return (
    <div class="tile">
      <dt>{label}</dt>
      <dd data-testid={id}>{value}</dd>
    </div>
  );
}
