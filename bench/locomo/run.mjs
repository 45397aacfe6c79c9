#!/usr/bin/env node
// LoCoMo retrieval benchmark for Cairn's archival search (docs/benchmarks.md, "Archival retrieval").
//
//   npm run build && node bench/locomo/run.mjs [--data-dir DIR] [--modes hybrid,lexical,vector] [--limit-convs N]
//
// Reads the LoCoMo file IN PLACE (CC BY-NC 4.0: never copy it into this repository or ship it), starts Cairn on a
// random port with a fresh (or reused, --data-dir) embedded database and drives it through the REST API only:
// one agent per conversation, one passage per turn ("Speaker: text [shares image: caption]", created_at = the
// session date), then every category 1-4 question through GET …/archival-memory/search, once per mode.
// With --tune it also fetches each channel's top 100 and grid-searches the fusion parameters offline.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { call } from '../lib/rest.mjs';
import { percentile } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    data: {
      type: 'string',
      default: process.env.LOCOMO_PATH ?? new URL('../../../shared/bench-data/locomo10.json', import.meta.url).pathname,
    },
    'data-dir': { type: 'string' },
    modes: { type: 'string', default: 'lexical,vector,hybrid' },
    'limit-convs': { type: 'string' },
    tune: { type: 'boolean', default: false },
    'tune-cache': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const { createCairn } = await import('../../dist/server.js');
const { loadConfig } = await import('../../dist/config.js');
const { createLogger } = await import('../../dist/logger.js');
const archival = await import('../../dist/services/archival.service.js');

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
/** "1:56 pm on 8 May, 2023" → ISO (read as UTC; only the order and the day matter). */
function sessionDate(text) {
  const m = /(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})/i.exec(text);
  if (!m) throw new Error(`unparseable session date: ${text}`);
  let hour = Number(m[1]) % 12;
  if (m[3].toLowerCase() === 'pm') hour += 12;
  return new Date(
    Date.UTC(Number(m[6]), MONTHS.indexOf(m[5].toLowerCase()), Number(m[4]), hour, Number(m[2])),
  ).toISOString();
}

function turnsOf(sample) {
  const conv = sample.conversation;
  const sessions = Object.keys(conv)
    .map((k) => /^session_(\d+)$/.exec(k))
    .filter(Boolean)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  const turns = [];
  for (const s of sessions) {
    const created_at = sessionDate(conv[`session_${s}_date_time`]);
    for (const turn of conv[`session_${s}`]) {
      const caption = turn.blip_caption ? ` [shares image: ${turn.blip_caption}]` : '';
      turns.push({ dia: turn.dia_id, session: s, text: `${turn.speaker}: ${turn.text}${caption}`, created_at });
    }
  }
  return turns;
}

function evidenceOf(qa, known) {
  return (qa.evidence ?? []).flatMap((e) => String(e).split(/[;\s]+/)).filter((id) => known.has(id));
}

const samples = JSON.parse(readFileSync(args.data, 'utf8')).slice(
  0,
  args['limit-convs'] ? Number(args['limit-convs']) : undefined,
);
const dataDir = args['data-dir'] ?? mkdtempSync(join(tmpdir(), 'cairn-locomo-'));
const reuse = args['data-dir'] !== undefined && existsSync(join(dataDir, 'cairn.db'));
const config = { ...loadConfig({ port: 0, host: '127.0.0.1', dataDir }, { LOG_LEVEL: 'warn' }), pgUri: undefined };
const cairn = await createCairn(config, createLogger('warn'));
await cairn.app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${cairn.app.server.address().port}`;

// ---- ingest -------------------------------------------------------------------------------------------------
const convs = [];
let ingest;
{
  const existing = reuse ? await call(base, 'GET', '/agents/?limit=1000') : [];
  const started = performance.now();
  let passages = 0;
  for (const sample of samples) {
    const turns = turnsOf(sample);
    let agent = existing.find((a) => a.name === sample.sample_id);
    const byPassage = new Map();
    if (!agent) {
      agent = await call(base, 'POST', '/agents/', { name: sample.sample_id, include_base_tools: false });
      for (const turn of turns) {
        const [p] = await call(base, 'POST', `/agents/${agent.id}/archival-memory`, {
          text: turn.text,
          created_at: turn.created_at,
        });
        byPassage.set(p.id, turn);
        passages++;
      }
    } else {
      const listed = await call(base, 'GET', `/agents/${agent.id}/archival-memory?limit=10000`);
      listed.forEach((p, i) => byPassage.set(p.id, turns[i]));
    }
    convs.push({ sample, agent, turns, byPassage });
  }
  const written = performance.now();
  for (const { agent } of convs) {
    for (;;) {
      const status = await call(base, 'GET', `/agents/${agent.id}/archival-memory/embedding-status`);
      if (status.pending === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const embedded = performance.now();
  ingest =
    passages > 0
      ? {
          passages,
          writeSeconds: (written - started) / 1000,
          totalSeconds: (embedded - started) / 1000,
          perSecond: passages / ((embedded - started) / 1000),
        }
      : { reused: true };
}

// ---- questions ----------------------------------------------------------------------------------------------
const questions = convs.flatMap((conv) => {
  const known = new Set(conv.turns.map((t) => t.dia));
  return conv.sample.qa
    .filter((qa) => qa.category >= 1 && qa.category <= 4)
    .map((qa) => ({ conv, qa, gold: evidenceOf(qa, known) }))
    .filter((q) => q.gold.length > 0);
});

const K = 50;
async function ranked(mode, q, topK = K, filters = {}) {
  const qs = new URLSearchParams({ query: q.qa.question, top_k: String(topK), mode, ...filters });
  const t0 = performance.now();
  const body = await call(base, 'GET', `/agents/${q.conv.agent.id}/archival-memory/search?${qs}`);
  const ms = performance.now() - t0;
  return { ids: body.results.map((r) => r.id), ms };
}

function score(q, ids) {
  const dias = ids.map((id) => q.conv.byPassage.get(id)?.dia);
  const gold = new Set(q.gold);
  const goldSessions = new Set(q.gold.map((d) => Number(/^D(\d+):/.exec(d)[1])));
  const firstGold = dias.findIndex((d) => gold.has(d));
  const sessions = [];
  for (const id of ids) {
    const s = q.conv.byPassage.get(id)?.session;
    if (s !== undefined && !sessions.includes(s)) sessions.push(s);
  }
  const hitAt = (k) => (firstGold >= 0 && firstGold < k ? 1 : 0);
  const sessionHitAt = (k) => (sessions.slice(0, k).some((s) => goldSessions.has(s)) ? 1 : 0);
  return {
    r1: hitAt(1),
    r5: hitAt(5),
    r10: hitAt(10),
    s5: sessionHitAt(5),
    s10: sessionHitAt(10),
    rr: firstGold >= 0 ? 1 / (firstGold + 1) : 0,
  };
}

function summarise(rows) {
  const mean = (key) => rows.reduce((a, r) => a + r[key], 0) / rows.length;
  return {
    n: rows.length,
    turn_r1: mean('r1'),
    turn_r5: mean('r5'),
    turn_r10: mean('r10'),
    session_r5: mean('s5'),
    session_r10: mean('s10'),
    mrr: mean('rr'),
  };
}

const results = {};
for (const mode of args.modes.split(',')) {
  const rows = [];
  const latencies = [];
  for (const q of questions) {
    const { ids, ms } = await ranked(mode, q);
    latencies.push(ms);
    rows.push({ ...score(q, ids), category: q.qa.category });
  }
  results[mode] = { ...summarise(rows), p50_ms: percentile(latencies, 50), p95_ms: percentile(latencies, 95) };
  for (const c of [1, 2, 3, 4])
    results[mode][`cat${c}_turn_r10`] = summarise(rows.filter((r) => r.category === c)).turn_r10;
  console.error(`${mode}: ${JSON.stringify(results[mode])}`);
}

// ---- offline fusion tuning ----------------------------------------------------------------------------------
// Fetches each channel's top 100 once per question, then replays the service's fusion offline over a grid:
// lexical weight (vector weight 1), RRF k, the share lent to insertion-order neighbours, the share lent to
// passages written at the same time (same created_at: the same session), and how many days after a period the
// question names its passages still count as of it (the period channel: full-text ranks within that period,
// weighted as the lexical channel; "off" drops it). The cache holds dia ids, so it outlives the database.
if (args.tune) {
  const { queryPeriod } = await import('../../dist/services/search-text.js');
  const LATER = [0, 7, 14, 31];
  const cache = args['tune-cache'];
  const passageOf = new Map(
    convs.map((conv) => [conv, new Map([...conv.byPassage].map(([id, turn]) => [turn.dia, id]))]),
  );
  let lists;
  if (cache && existsSync(cache)) {
    const cached = JSON.parse(readFileSync(cache, 'utf8'));
    const ids = (q, dias) => dias.map((d) => passageOf.get(q.conv).get(d));
    lists = questions.map((q, i) => ({
      q,
      lex: ids(q, cached[i].lex),
      vec: ids(q, cached[i].vec),
      period: ids(q, cached[i].period),
    }));
  } else {
    lists = [];
    for (const q of questions) {
      const [lex, vec] = await Promise.all([ranked('lexical', q, 100), ranked('vector', q, 100)]);
      // The widest window once; narrower ones are its prefix filtered by date.
      const widest = queryPeriod(q.qa.question, Math.max(...LATER));
      const period = widest
        ? await ranked('lexical', q, 100, { start_datetime: widest.start, end_datetime: widest.end })
        : { ids: [] };
      lists.push({ q, lex: lex.ids, vec: vec.ids, period: period.ids });
    }
    const dias = (q, ids) => ids.map((id) => q.conv.byPassage.get(id).dia);
    if (cache)
      writeFileSync(
        cache,
        JSON.stringify(
          lists.map(({ q, lex, vec, period }) => ({ lex: dias(q, lex), vec: dias(q, vec), period: dias(q, period) })),
        ),
      );
  }
  const position = new Map();
  for (const conv of convs) {
    const ids = [...conv.byPassage.keys()];
    ids.forEach((id, i) => position.set(id, { ids, i, at: conv.byPassage.get(id).created_at }));
  }
  for (const l of lists) {
    l.byLater = { off: [] };
    for (const later of LATER) {
      const window = queryPeriod(l.q.qa.question, later);
      l.byLater[later] = window ? l.period.filter((id) => position.get(id).at <= `${window.end}T23:59:59.999Z`) : [];
    }
  }
  const grid = [];
  const settings = [];
  for (const later of ['off', ...LATER]) {
    for (const wl of [1.5, 2, 3]) {
      for (const k of [3, 5, 10]) {
        for (const share of [0.3, 0.5]) {
          for (const sameTime of [0, 0.1, 0.2, 0.3, 0.5]) {
            for (const agg of ['max', 'sum']) settings.push({ later, wl, k, share, sameTime, agg });
          }
        }
      }
    }
  }
  for (const { later, wl, k, share, sameTime, agg } of settings) {
    const rows = lists.map(({ q, lex, vec, byLater }) => {
      const s = new Map();
      lex.forEach((id, i) => s.set(id, (s.get(id) ?? 0) + wl / (k + i + 1)));
      vec.forEach((id, i) => s.set(id, (s.get(id) ?? 0) + 1 / (k + i + 1)));
      byLater[later].forEach((id, i) => s.set(id, (s.get(id) ?? 0) + wl / (k + i + 1)));
      const base = [...s];
      if (share > 0) {
        for (const [id, v] of base) {
          const o = position.get(id);
          for (const n of [o.ids[o.i - 1], o.ids[o.i + 1]])
            if (n && position.get(n).at === o.at) s.set(n, (s.get(n) ?? 0) + share * v);
        }
      }
      if (sameTime > 0) {
        const best = new Map();
        for (const [id, v] of base) {
          const at = position.get(id).at;
          best.set(at, agg === 'max' ? Math.max(best.get(at) ?? 0, v) : (best.get(at) ?? 0) + v);
        }
        for (const [id, v] of [...s]) s.set(id, v + sameTime * (best.get(position.get(id).at) ?? 0));
      }
      return score(
        q,
        [...s]
          .sort((a, b) => b[1] - a[1])
          .slice(0, K)
          .map(([id]) => id),
      );
    });
    grid.push({ later, wl, k, share, sameTime, agg, ...summarise(rows) });
  }
  const service = (g) =>
    g.wl === archival.FUSION.lexicalWeight &&
    g.k === archival.FUSION.rrfK &&
    g.share === archival.FUSION.neighbourShare &&
    g.sameTime === archival.FUSION.sameTimeShare &&
    g.agg === 'sum';
  console.error("the service's fusion, by days after a named period (off: no period channel):");
  for (const g of grid.filter(service)) console.error(JSON.stringify(g));
  grid.sort((a, b) => b.turn_r10 + b.session_r5 - (a.turn_r10 + a.session_r5));
  console.error('best fusion settings (turn@10 + session@5):');
  for (const g of grid.slice(0, 12)) console.error(JSON.stringify(g));
  results.tuning = { service: grid.filter(service), best: grid.slice(0, 12) };
  const bySession = [...grid].sort((a, b) => b.session_r5 - a.session_r5).slice(0, 5);
  console.error('best by session recall@5:');
  for (const g of bySession) console.error(JSON.stringify(g));
}

const report = { conversations: convs.length, questions: questions.length, ingest, fusion: archival.FUSION, results };
console.log(JSON.stringify(report, null, 2));
await cairn.close();
if (!args['data-dir']) rmSync(dataDir, { recursive: true, force: true });
