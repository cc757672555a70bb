// The Fastify peer: the churn model served the way a Node team would serve it without ortline.
// Fastify 5, a JSON schema on the route (body validated by ajv, answer serialised by
// fast-json-stringify, as the Fastify docs recommend), one onnxruntime-node InferenceSession created
// at start-up, one session.run per request. Answers the same JSON as the gateway's v1 predict.
//
//   node bench/peers/fastify/server.mjs [port]        (0 or none: a free port, logged)
//
// One process, like the gateway: an event loop plus ONNX Runtime's own thread for each run
// (onnxruntime-node runs a session off the loop). FASTIFY_WORKERS=N forks N processes sharing the
// port (node:cluster), for those who deploy one Node process per core.
// No request logging (Fastify's logger is off by default; the gateway logs no requests either).
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const workers = Number(process.env.FASTIFY_WORKERS ?? 1);
const port = Number(process.argv[2] ?? 0);

if (workers > 1 && cluster.isPrimary) {
  // A fixed port is needed for the workers to share: pick one, then fork.
  const { createServer } = await import('node:net');
  const chosen =
    port ||
    (await new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    }));
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork({ FASTIFY_PORT: String(chosen) }).on('message', (m) => {
      if (m === 'ready' && ++ready === workers)
        process.stdout.write(`${JSON.stringify({ msg: 'listening', port: chosen, workers })}\n`);
    });
  }
  cluster.on('exit', (_w, code) => {
    if (code !== 0) process.exit(1);
  });
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  await serve(Number(process.env.FASTIFY_PORT ?? port));
}

async function serve(listenPort) {
  const [{ default: Fastify }, ort] = await Promise.all([import('fastify'), import('onnxruntime-node')]);

  const dir = modelDir();
  const card = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  });
  const features = card.features;
  const thresholds = card.risk_thresholds;
  const version = String(card.version);
  const outputName = card.output.name;
  const outputIndex = card.output.index;

  // The route's JSON schema: what a hand-written one for these 19 fields says.
  const properties = { customer_id: { type: 'string' } };
  for (const f of features) {
    properties[f.name] =
      f.kind === 'categorical'
        ? { type: 'string', enum: f.categories }
        : {
            type: f.required ? (f.integer ? 'integer' : 'number') : [f.integer ? 'integer' : 'number', 'null'],
            ...(f.min != null ? { minimum: f.min } : {}),
            ...(f.max != null ? { maximum: f.max } : {}),
          };
  }
  const body = { type: 'object', required: features.filter((f) => f.required).map((f) => f.name), properties };
  const response = {
    200: {
      type: 'object',
      properties: {
        customer_id: { type: ['string', 'null'] },
        churn_probability: { type: 'number' },
        risk_category: { type: 'string' },
        model_version: { type: 'string' },
        prediction_id: { type: 'string' },
      },
    },
  };

  const riskCategory = (p) => (thresholds.find((t) => p <= t.max) ?? thresholds.at(-1)).category;

  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.post('/v1/models/:name/predict', { schema: { body, response } }, async (request, reply) => {
    if (request.params.name !== card.name)
      return reply.code(404).send({ error: `unknown model ${request.params.name}` });
    const record = request.body;
    const feeds = {};
    for (const f of features) {
      const v = record[f.name];
      feeds[f.name] =
        f.dtype === 'string'
          ? new ort.Tensor('string', [v], [1, 1])
          : new ort.Tensor('float32', Float32Array.of(v ?? NaN), [1, 1]);
    }
    const out = await session.run(feeds);
    const p = out[outputName].data[outputIndex];
    return {
      customer_id: record.customer_id ?? null,
      churn_probability: p,
      risk_category: riskCategory(p),
      model_version: version,
      prediction_id: randomUUID(),
    };
  });

  await app.listen({ port: listenPort, host: '127.0.0.1' });
  if (process.send) process.send('ready');
  else process.stdout.write(`${JSON.stringify({ msg: 'listening', port: app.server.address().port })}\n`);
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
}

/** The model version directory: the bench passes the one the gateway serves by default. */
function modelDir() {
  if (!process.env.MODEL_DIR) throw new Error('MODEL_DIR is not set: the model version directory to serve');
  return process.env.MODEL_DIR;
}
