// A uPlot time-series chart: made for live data (thousands of points redrawn in a millisecond, one
// canvas, about 50 KB), created once and fed new data on every render.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesSpec {
  readonly label: string;
  readonly color: string;
}

export interface ChartProps {
  readonly title: string;
  readonly unit: string;
  readonly series: readonly SeriesSpec[];
  /** [x in seconds since the epoch, one array of values (null = no value) per series]. */
  readonly data: uPlot.AlignedData;
}

const HEIGHT = 180;
const WINDOW_S = 300;

export function Chart({ title, unit, series, data }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current!;
    const u = new uPlot(
      {
        title,
        width: Math.max(240, el.clientWidth),
        height: HEIGHT,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: false }))],
        axes: [{}, { label: unit, size: 60 }],
        // Always the last five minutes, so a quiet start does not stretch one second across the chart.
        scales: {
          x: { time: true, range: (_u, _min, max) => [(max ?? Date.now() / 1000) - WINDOW_S, max ?? Date.now() / 1000] },
          y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(max ?? 1, 1e-9) * 1.1] },
        },
        legend: { live: false },
      },
      data,
      el,
    );
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(240, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div class="chart" ref={box} role="img" aria-label={`${title} (${unit}), the last five minutes`} />;
}
