// CPU profiles of a server while it is measured: the V8 profiler of a process started with
// `--inspect=127.0.0.1:<port>` is started and stopped over the inspector protocol around the phase
// (so start-up and idle time stay out), and the samples are summed by where they spent their time.

/** The parts of a V8 CPU profile the summary reads (`Profiler.stop`'s `profile`). */
export interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }>;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** Runs `during` while the V8 profiler of the process listening for the inspector on `port` samples. */
export async function profileDuring<T>(
  port: number,
  during: () => Promise<T>,
  intervalUs = 100,
): Promise<{ result: T; profile: CpuProfile }> {
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const url = list[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${port}`);
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`cannot open ${url}`)), { once: true });
  });
  let id = 0;
  const pending = new Map<number, (value: unknown) => void>();
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      id += 1;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    await send('Profiler.enable');
    await send('Profiler.setSamplingInterval', { interval: intervalUs });
    await send('Profiler.start');
    const result = await during();
    const stopped = (await send('Profiler.stop')) as { profile: CpuProfile };
    await send('Profiler.disable');
    return { result, profile: stopped.profile };
  } finally {
    ws.close();
  }
}

export interface ProfileSummary {
  /** Sampled time, ms (idle included). */
  readonly sampledMs: number;
  /** Share of the non-idle samples, by category (self time), largest first. */
  readonly categories: Array<{ readonly name: string; readonly share: number; readonly ms: number }>;
  /** The heaviest functions by self time, as "name file:line", with their share of non-idle time. */
  readonly functions: Array<{ readonly name: string; readonly share: number }>;
  readonly idleShare: number;
}

/**
 * Where a request's CPU time goes, by category: every sample's self time is charged to the first
 * category whose pattern matches its function's file (or name, for V8's and the kernel's own entries).
 */
export function summarizeProfile(
  profile: CpuProfile,
  categories: ReadonlyArray<readonly [name: string, test: RegExp]>,
  top = 25,
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = profile.samples[i] as number;
    self.set(node, (self.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  let idle = 0;
  const cat = new Map<string, number>();
  const fn = new Map<string, number>();
  const root = /^file:\/\/.*?\/(?=src\/|bench\/|node_modules\/)/;
  for (const [nodeId, us] of self) {
    const frame = byId.get(nodeId)?.callFrame;
    if (!frame) continue;
    total += us;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const where = frame.url.replace(root, '') || `(${frame.functionName})`;
    const name = categories.find(([, test]) => test.test(where))?.[0] ?? 'other';
    cat.set(name, (cat.get(name) ?? 0) + us);
    const label = `${frame.functionName || '(anonymous)'} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    fn.set(label, (fn.get(label) ?? 0) + us);
  }
  const busy = Math.max(1, total - idle);
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    sampledMs: total / 1000,
    idleShare: idle / Math.max(1, total),
    categories: sorted(cat).map(([name, us]) => ({ name, share: us / busy, ms: us / 1000 })),
    functions: sorted(fn)
      .slice(0, top)
      .map(([name, us]) => ({ name, share: us / busy })),
  };
}
