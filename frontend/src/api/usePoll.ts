import { useEffect, useRef } from 'react';

/** Call `tick` every `ms` while `active`; stops on unmount. Each tick waits for the previous one. */
export function usePoll(tick: () => Promise<unknown>, ms: number, active: boolean): void {
  const fn = useRef(tick);
  fn.current = tick;
  useEffect(() => {
    if (!active) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const loop = async () => {
      if (stopped) return;
      try {
        await fn.current();
      } finally {
        if (!stopped) timer = setTimeout(loop, ms);
      }
    };
    timer = setTimeout(loop, ms);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [ms, active]);
}
