// A real Apache Kafka broker for the stream tests and benchmark: the jars scripts/install-kafka.sh
// put in .tools/kafka/libs, one process in KRaft mode (broker and controller), its data and log in
// a fresh temporary folder, on free loopback ports. Started and stopped by its user; never a service.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { freePort, repoRoot } from './common.mjs';

const kafkaLibs = join(process.env.ORTLINE_TOOLS_DIR ?? join(repoRoot, '.tools'), 'kafka', 'libs');

function kafkaAvailable() {
  return (
    existsSync(kafkaLibs) &&
    readdirSync(kafkaLibs).some((f) => f.startsWith('kafka_2.13-')) &&
    spawnSync('java', ['-version']).status === 0
  );
}

const LOG4J = `status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = \${sys:kafka.logs.dir}/broker.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{HH:mm:ss.SSS} %-5p [%c{1}] %m%n
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = info
`;

export class KafkaBroker {
  /** @type {import('node:child_process').ChildProcess | undefined} */
  #proc;
  #controllerPort;
  #dir;

  constructor(port, controllerPort, dir) {
    this.port = port;
    this.#controllerPort = controllerPort;
    this.#dir = dir;
  }

  /** `127.0.0.1:PORT`, as clients take it. */
  get bootstrap() {
    return `127.0.0.1:${this.port}`;
  }

  get pid() {
    return this.#proc?.pid;
  }

  /** What the broker logged (its warnings and its own info lines), for a failure's message. */
  log() {
    const path = join(this.#dir, 'broker.log');
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  }

  /** Formats a fresh log folder, starts the broker and waits until it serves metadata. */
  static async start() {
    if (!kafkaAvailable())
      throw new Error(`no Kafka broker in ${kafkaLibs} or no java: run bash scripts/install-kafka.sh`);
    const broker = new KafkaBroker(await freePort(), await freePort(), mkdtempSync(join(tmpdir(), 'ortline-kafka-')));
    await broker.#launch();
    return broker;
  }

  #java(args) {
    return [
      '-Xms128m',
      '-Xmx512m',
      '-XX:+UseSerialGC',
      `-Dkafka.logs.dir=${this.#dir}`,
      `-Dlog4j2.configurationFile=${join(this.#dir, 'log4j2.properties')}`,
      '-cp',
      `${kafkaLibs}/*`,
      ...args,
    ];
  }

  async #launch() {
    const props = join(this.#dir, 'server.properties');
    writeFileSync(join(this.#dir, 'log4j2.properties'), LOG4J);
    writeFileSync(
      props,
      [
        'process.roles=broker,controller',
        'node.id=1',
        `listeners=PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.#controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${this.port}`,
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        `controller.quorum.bootstrap.servers=127.0.0.1:${this.#controllerPort}`,
        `log.dirs=${join(this.#dir, 'data')}`,
        'offsets.topic.replication.factor=1',
        'offsets.topic.num.partitions=4',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'group.initial.rebalance.delay.ms=0',
        'auto.create.topics.enable=false',
        '',
      ].join('\n'),
    );
    const format = spawnSync(
      'java',
      this.#java(['kafka.tools.StorageTool', 'format', '--standalone', '-t', randomUUID(), '-c', props]),
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (format.status !== 0) throw new Error(`kafka storage format failed: ${format.stderr}${format.stdout}`);
    let output = '';
    // A broker must not outlive its user, even one killed before it could stop it (a test's
    // worker on timeout): a shell runs it, polls this process every second and kills it once this
    // process is gone. The shell leads a process group of its own, so stop() ends both at once.
    const watch = `java "$@" & j=$!; while kill -0 ${process.pid} 2>/dev/null && kill -0 $j 2>/dev/null; do sleep 1; done; kill -9 $j 2>/dev/null; wait $j`;
    const proc = spawn('sh', ['-c', watch, 'sh', ...this.#java(['kafka.Kafka', props])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    proc.stdout.on('data', (d) => (output += d.toString()));
    proc.stderr.on('data', (d) => (output += d.toString()));
    this.#proc = proc;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`kafka exited with ${proc.exitCode}: ${output}${this.log()}`);
      const admin = new Admin({ clientId: 'ortline-probe', bootstrapBrokers: [this.bootstrap], retries: 0 });
      try {
        const meta = await admin.metadata({ topics: [] });
        if (meta.brokers.size > 0) return;
      } catch {
        // not listening yet
      } finally {
        await admin.close().catch(() => {});
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await this.stop();
    throw new Error(`kafka on port ${this.port} did not serve metadata within 60 s: ${output}${this.log()}`);
  }

  /** Creates topics with `partitions` partitions each (replication 1). */
  async createTopics(topics, partitions) {
    const admin = new Admin({ clientId: 'ortline-admin', bootstrapBrokers: [this.bootstrap] });
    try {
      await admin.createTopics({ topics, partitions, replicas: 1 });
    } finally {
      await admin.close();
    }
  }

  /** Kills the broker and removes its data. */
  async stop() {
    const proc = this.#proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      process.kill(-proc.pid, 'SIGKILL'); // the group: the shell and the broker
      await exited;
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
