// The Grafana dashboards, as code (Grafana Foundation SDK). The JSON beside this file is generated
// from it; a test fails when the two differ (regenerate: UPDATE_DASHBOARDS=1 pnpm exec vitest run
// deploy/test/dashboards.test.ts). Every query names the data source through the `datasource`
// variable and filters by the `job` and `instance` variables, so a dashboard works in any Grafana.
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as heatmap from '@grafana/grafana-foundation-sdk/heatmap';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { SCORING_ROUTES } from '../../packages/gateway/src/metrics/requests.js';

// Grafana's variable syntax, not a template literal.
const DATASOURCE_VARIABLE = '$' + '{datasource}';
const DATASOURCE = { type: 'prometheus', uid: DATASOURCE_VARIABLE };
/** The label filter every query carries. */
const SEL = 'job=~"$job",instance=~"$instance"';
/** The scoring routes (predictions over HTTP and WebSocket, OIP inference), as the gateway names them. */
const SCORING = `route=~"${SCORING_ROUTES.join('|')}"`;

const query = (expr: string, legend = '') =>
  new prometheus.DataqueryBuilder().expr(expr).legendFormat(legend).datasource(DATASOURCE);

function variables(b: dashboard.DashboardBuilder, extra: cog.Builder<dashboard.VariableModel>[] = []): void {
  b.withVariable(new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'));
  const labelVariable = (name: string, expr: string) =>
    new dashboard.QueryVariableBuilder(name)
      .label(name)
      .datasource(DATASOURCE)
      .query(expr)
      .definition(expr)
      .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
      .sort(dashboard.VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue('.*');
  b.withVariable(labelVariable('job', 'label_values(ortline_model_ready, job)'));
  b.withVariable(labelVariable('instance', 'label_values(ortline_model_ready{job=~"$job"}, instance)'));
  for (const v of extra) b.withVariable(v);
}

const thresholds = (steps: [number | null, string][]) =>
  new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps(steps.map(([value, color]) => ({ value, color })));

/** Stat and bar gauge panels show the last value of each series. */
const lastValue = () => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);

const thresholdLines = () => new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Line);

/** PSI's reading: < 0.1 ok, 0.1 to 0.25 watch, > 0.25 drift. */
const psiThresholds = () =>
  thresholds([
    [null, 'green'],
    [0.1, 'orange'],
    [0.25, 'red'],
  ]);

const series = (title: string, unit: string, ...targets: prometheus.DataqueryBuilder[]) => {
  const p = new timeseries.PanelBuilder().title(title).unit(unit).datasource(DATASOURCE).height(8).span(12);
  for (const t of targets) p.withTarget(t);
  return p;
};

/** A headline number: the last value of one query, coloured by `steps` when given. */
const tile = (title: string, unit: string | undefined, expr: string, steps?: [number | null, string][]) => {
  const p = new stat.PanelBuilder().reduceOptions(lastValue()).title(title);
  if (unit !== undefined) p.unit(unit);
  p.datasource(DATASOURCE).height(4).span(6);
  if (steps) p.thresholds(thresholds(steps));
  return p.withTarget(query(expr));
};

/** A PSI over time, with the watch and drift levels drawn as lines. */
const psiSeries = (title: string, target: prometheus.DataqueryBuilder) =>
  series(title, 'short', target).thresholds(psiThresholds()).thresholdsStyle(thresholdLines());

export function serviceOverview(): dashboard.Dashboard {
  const b = new dashboard.DashboardBuilder('ortline / service overview')
    .uid('ortline-service-overview')
    .description('Throughput, latency, errors, micro-batching, queues, caches and the event loop of ortline gateways.')
    .tags(['ortline'])
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .tooltip(dashboard.DashboardCursorSync.Crosshair);
  variables(b);
  b.withRow(new dashboard.RowBuilder('Traffic'))
    .withPanel(
      tile(
        'Requests / s',
        'reqps',
        `sum(rate(ortline_request_duration_seconds_count{${SEL},${SCORING}}[$__rate_interval]))`,
      ),
    )
    .withPanel(
      tile(
        'Error ratio (5xx)',
        'percentunit',
        `sum(rate(ortline_request_duration_seconds_count{${SEL},${SCORING},status=~"5.."}[$__rate_interval])) / sum(rate(ortline_request_duration_seconds_count{${SEL},${SCORING}}[$__rate_interval]))`,
        [
          [null, 'green'],
          [0.001, 'orange'],
          [0.01, 'red'],
        ],
      ),
    )
    .withPanel(
      tile(
        'p99 latency',
        's',
        `histogram_quantile(0.99, sum by (le) (rate(ortline_request_duration_seconds_bucket{${SEL},${SCORING},status="200"}[$__rate_interval])))`,
        [
          [null, 'green'],
          [0.025, 'orange'],
          [0.05, 'red'],
        ],
      ),
    )
    .withPanel(tile('Model versions ready', undefined, `sum(ortline_model_ready{${SEL}})`))
    .withPanel(
      series(
        'Throughput by route',
        'reqps',
        query(`sum by (route) (rate(ortline_request_duration_seconds_count{${SEL}}[$__rate_interval]))`, '{{route}}'),
      ),
    )
    .withPanel(
      series(
        'Latency percentiles (scoring routes, 200)',
        's',
        ...[0.5, 0.9, 0.99].map((q) =>
          query(
            `histogram_quantile(${q}, sum by (le) (rate(ortline_request_duration_seconds_bucket{${SEL},${SCORING},status="200"}[$__rate_interval])))`,
            `p${q * 100}`,
          ),
        ),
      ),
    )
    .withPanel(
      series(
        'Errors by status',
        'reqps',
        query(
          `sum by (status) (rate(ortline_request_duration_seconds_count{${SEL},status!~"2.."}[$__rate_interval]))`,
          '{{status}}',
        ),
      ),
    )
    .withPanel(
      series(
        'Predictions by route',
        'rowsps',
        query(
          `sum by (model, version, route) (rate(ortline_predictions_total{${SEL}}[$__rate_interval]))`,
          '{{model}} v{{version}} {{route}}',
        ),
      ),
    );
  b.withRow(new dashboard.RowBuilder('Inference'))
    .withPanel(
      series(
        'Rows per micro-batch',
        'short',
        query(
          `sum by (model, version) (rate(ortline_batch_rows_sum{${SEL}}[$__rate_interval])) / sum by (model, version) (rate(ortline_batch_rows_count{${SEL}}[$__rate_interval]))`,
          '{{model}} v{{version}} mean',
        ),
        query(
          `histogram_quantile(0.99, sum by (model, version, le) (rate(ortline_batch_rows_bucket{${SEL}}[$__rate_interval])))`,
          '{{model}} v{{version}} p99',
        ),
      ),
    )
    .withPanel(
      series(
        'Native run time p99',
        's',
        query(
          `histogram_quantile(0.99, sum by (model, version, le) (rate(ortline_inference_duration_seconds_bucket{${SEL}}[$__rate_interval])))`,
          '{{model}} v{{version}}',
        ),
      ),
    )
    .withPanel(
      series(
        'Native runs per second: inline (on the event loop) and on workers',
        'ops',
        query(
          `sum by (model, version, mode) (rate(ortline_native_runs_total{${SEL}}[$__rate_interval]))`,
          '{{model}} v{{version}} {{mode}}',
        ),
      ),
    )
    .withPanel(
      series(
        'Queue (rows waiting) against its limit',
        'short',
        query(`sum by (model, version) (ortline_queue_rows{${SEL}})`, '{{model}} v{{version}}'),
        query(`max(ortline_queue_limit_rows{${SEL}})`, 'limit'),
      ),
    )
    .withPanel(
      series(
        'Event loop delay',
        's',
        query(`max by (quantile) (ortline_event_loop_delay_seconds{${SEL}})`, 'q{{quantile}}'),
      ),
    );
  b.withRow(new dashboard.RowBuilder('Caches'))
    .withPanel(
      series(
        'Cache hit ratio',
        'percentunit',
        query(
          `sum by (tier) (rate(ortline_cache_hits_total{${SEL}}[$__rate_interval])) / (sum by (tier) (rate(ortline_cache_hits_total{${SEL}}[$__rate_interval])) + sum by (tier) (rate(ortline_cache_misses_total{${SEL}}[$__rate_interval])))`,
          '{{tier}}',
        ),
      ).max(1),
    )
    .withPanel(
      series(
        'Redis (L2) circuit breaker: 0 closed, 1 half-open, 2 open',
        'short',
        query(`max by (instance) (ortline_cache_breaker_state{${SEL}})`, '{{instance}}'),
      )
        .min(0)
        .max(2),
    );
  return b.build();
}

export function modelHealth(): dashboard.Dashboard {
  const model = new dashboard.QueryVariableBuilder('model')
    .label('model')
    .datasource(DATASOURCE)
    .query('label_values(ortline_model_ready{job=~"$job"}, model)')
    .definition('label_values(ortline_model_ready{job=~"$job"}, model)')
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
  const version = new dashboard.QueryVariableBuilder('version')
    .label('version')
    .datasource(DATASOURCE)
    .query('label_values(ortline_model_ready{job=~"$job",model=~"$model"}, version)')
    .definition('label_values(ortline_model_ready{job=~"$job",model=~"$model"}, version)')
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.NumericalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*');
  const M = `${SEL},model=~"$model",version=~"$version"`;
  const b = new dashboard.DashboardBuilder('ortline / model health')
    .uid('ortline-model-health')
    .description(
      "Predictions by version, route and risk category, the distribution of predicted probabilities, and drift of every feature against the model card's reference (PSI).",
    )
    .tags(['ortline'])
    .refresh('1m')
    .time({ from: 'now-6h', to: 'now' })
    .tooltip(dashboard.DashboardCursorSync.Crosshair);
  variables(b, [model, version]);
  b.withRow(new dashboard.RowBuilder('Versions'))
    .withPanel(
      new table.PanelBuilder()
        .title('Versions and their state')
        .datasource(DATASOURCE)
        .height(6)
        .span(24)
        .withTarget(
          query(`max by (instance, model, version, state) (ortline_model_version_info{${SEL},model=~"$model"})`)
            .instant()
            .format(prometheus.PromQueryFormat.Table),
        ),
    )
    .withPanel(
      series(
        'Predictions by version and route',
        'rowsps',
        query(
          `sum by (version, route) (rate(ortline_predictions_total{${M}}[$__rate_interval]))`,
          'v{{version}} {{route}}',
        ),
      ),
    )
    .withPanel(
      series(
        'Predictions by risk category',
        'rowsps',
        query(
          `sum by (version, risk) (rate(ortline_risk_predictions_total{${M}}[$__rate_interval]))`,
          'v{{version}} {{risk}}',
        ),
      ),
    )
    .withPanel(
      new heatmap.PanelBuilder()
        .title('Predicted probability distribution')
        .datasource(DATASOURCE)
        .height(8)
        .span(12)
        .calculate(false)
        .withTarget(
          query(
            `sum by (le) (increase(ortline_prediction_probability_bucket{${M}}[$__rate_interval]))`,
            '{{le}}',
          ).format(prometheus.PromQueryFormat.Heatmap),
        ),
    )
    .withPanel(
      series(
        'Shadow: mean |shadow - live| and risk disagreements',
        'percentunit',
        query(
          `sum by (version) (rate(ortline_shadow_abs_diff_sum{${M}}[$__rate_interval])) / sum by (version) (rate(ortline_shadow_rows_total{${M}}[$__rate_interval]))`,
          'v{{version}} mean abs diff',
        ),
        query(
          `sum by (version) (rate(ortline_shadow_risk_disagreements_total{${M}}[$__rate_interval])) / sum by (version) (rate(ortline_shadow_rows_total{${M}}[$__rate_interval]))`,
          'v{{version}} disagreements',
        ),
      ),
    );
  b.withRow(new dashboard.RowBuilder('Drift (PSI against the model card: < 0.1 ok, 0.1-0.25 watch, > 0.25 drift)'))
    .withPanel(
      new bargauge.PanelBuilder()
        .reduceOptions(lastValue())
        .title('Feature drift now')
        .datasource(DATASOURCE)
        .height(10)
        .span(12)
        .min(0)
        .max(0.5)
        .thresholds(psiThresholds())
        .withTarget(
          query(`max by (feature) (ortline_feature_drift_psi{${M}})`, '{{feature}}')
            .instant()
            .format(prometheus.PromQueryFormat.TimeSeries),
        ),
    )
    .withPanel(
      psiSeries(
        'Feature drift over time',
        query(`max by (version, feature) (ortline_feature_drift_psi{${M}})`, 'v{{version}} {{feature}}'),
      ).height(10),
    )
    .withPanel(
      psiSeries('Prediction drift', query(`max by (version) (ortline_prediction_drift_psi{${M}})`, 'v{{version}}')),
    )
    .withPanel(
      series(
        'Rows in the drift window',
        'short',
        query(`sum by (version) (ortline_drift_window_rows{${M}})`, 'v{{version}}'),
      ),
    );
  return b.build();
}

/**
 * Panel ids (Grafana keys panel state and links by them) and query refIds, numbered in order: the
 * builders leave them to Grafana, which would number them differently on every import.
 */
function numbered(d: dashboard.Dashboard): dashboard.Dashboard {
  (d.panels ?? []).forEach((p, i) => {
    p.id = i + 1;
    const targets = (p as { targets?: { refId?: string }[] }).targets ?? [];
    targets.forEach((t, k) => {
      t.refId = String.fromCharCode(65 + k);
    });
  });
  return d;
}

/** File name (under deploy/grafana/ and the chart's files/dashboards/) -> dashboard. */
export function dashboards(): Record<string, dashboard.Dashboard> {
  return { 'service-overview.json': numbered(serviceOverview()), 'model-health.json': numbered(modelHealth()) };
}
