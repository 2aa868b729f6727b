/** An org unit's name by id. Campaign screens name only a handful of units, anywhere in the tree, so
 * each is fetched once (`orgUnit(id)`) and kept for the session instead of loading the whole tree. */
import { useEffect, useState } from 'react';
import { gql } from '../../api/client';
import { WarmthOrgUnitNameDocument } from '../../graphql/generated';

const cache = new Map<string, Promise<string>>();

function nameOf(id: string): Promise<string> {
  let p = cache.get(id);
  if (!p) {
    p = gql(WarmthOrgUnitNameDocument, { id }).then(
      (r) => r.orgUnit?.name ?? '—',
      () => {
        cache.delete(id); // a failed lookup is tried again next time
        return '—';
      },
    );
    cache.set(id, p);
  }
  return p;
}

export function UnitName({ id }: { id: string | null | undefined }) {
  const [name, setName] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    if (id) void nameOf(id).then((n) => live && setName(n));
    return () => {
      live = false;
    };
  }, [id]);
  return <>{id ? name ?? '…' : '—'}</>;
}

export const unitName = (id: string | null | undefined) => <UnitName id={id} />;
