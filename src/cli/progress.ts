import cliProgress from 'cli-progress';

export interface ProgressReporter {
  update(step: string, done: number, total: number): void;
  stop(): void;
}

/** A progress bar on a terminal, plain "step n/total" lines otherwise (CI logs, pipes). */
export function progressReporter(
  title: string,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressReporter {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${title} [{bar}] {percentage}% | {step}`, stream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(step, done, total) {
        if (!started) {
          bar.start(total, 0, { step });
          started = true;
        }
        bar.setTotal(total);
        bar.update(done, { step });
      },
      stop: () => bar.stop(),
    };
  }
  return {
    update(step, done, total) {
      stream.write(`${title}: ${step} (${done}/${total})\n`);
    },
    stop() {},
  };
}
