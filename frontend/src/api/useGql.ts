import { useCallback, useEffect, useRef, useState } from 'react';
import type { TypedDocumentString } from '../graphql/generated';
import { gql } from './client';

export interface QueryState<R> {
  data: R | undefined;
  error: unknown;
  loading: boolean;
  refetch: () => Promise<R | undefined>;
}

/**
 * Run a query when the component mounts and whenever its variables change. Stale responses (from
 * earlier variables) are dropped. `skip` defers the query (e.g. until a filter is chosen).
 */
export function useGql<R, V>(
  document: TypedDocumentString<R, V>,
  variables?: V,
  options: { skip?: boolean } = {},
): QueryState<R> {
  const [data, setData] = useState<R | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState<boolean>(!options.skip);
  const seq = useRef(0);
  const key = JSON.stringify(variables ?? {});

  const run = useCallback(async (): Promise<R | undefined> => {
    const mine = ++seq.current;
    setLoading(true);
    setError(null);
    try {
      const result = await (gql as (d: TypedDocumentString<R, V>, v?: V) => Promise<R>)(document, JSON.parse(key) as V);
      if (mine === seq.current) setData(result);
      return result;
    } catch (e) {
      if (mine === seq.current) setError(e);
      return undefined;
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, [document, key]);

  useEffect(() => {
    if (options.skip) {
      setLoading(false);
      return;
    }
    void run();
    return () => {
      seq.current++; // drop the in-flight response on unmount / variable change
    };
  }, [run, options.skip]);

  return { data, error, loading, refetch: run };
}
