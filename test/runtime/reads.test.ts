/** Reading a case never hangs on its workflow: with no worker polling, the answer comes from the projection. */
import { describe, expect, it } from 'vitest';
import { CaseService } from '../../src/cases/service.js';
import { publishStandardPlaybook } from '../support/playbooks.js';
import { useRuntime } from '../support/runtime.js';

const runtime = useRuntime(async ({ db }) => {
  await publishStandardPlaybook(db.pool, 'review-recovery');
});

describe('reading a case', () => {
  it('answers from the projection when no worker polls its task queue', async () => {
    const unattended = new CaseService(runtime.env.client, runtime.db.pool, 'nobody-polls-this-queue');
    const opened = await unattended.open({
      playbook: 'review-recovery', caseId: 'unattended-1',
      data: { order_id: 'RV-1', buyer_name: 'Zhou', rating: 'negative', review_text: 'slow delivery', suspected_extortion: false },
    });
    expect(opened).toMatchObject({ kind: 'opened' });
    // Without the deadline the query waits for a worker until gRPC gives up, and the read fails.
    expect(await unattended.describe('unattended-1')).toMatchObject({ caseId: 'unattended-1', playbook: 'review-recovery', status: 'open' });
  });
});
