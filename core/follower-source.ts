import type { SourcePosition } from './change-record.js';
import type { ChangeSource, SourceStatus } from './source.js';

/**
 * A source this process does not capture: another Sluice writes its log (on Kafka) and this one
 * only applies it, to serve queries from its own store. Acknowledging is the writer's business.
 */
export class FollowerSource implements ChangeSource {
  private applied: string | null = null;
  private state: SourceStatus['state'] = 'starting';

  constructor(readonly name: string, private readonly kind: string) {}

  async start(): Promise<void> {
    this.state = 'streaming';
  }

  committed(position: SourcePosition): void {
    this.applied = position.lsn;
  }

  status(): SourceStatus {
    return { name: this.name, kind: `${this.kind} (following the Kafka log)`, state: this.state, position: this.applied, acknowledged: null, error: null, snapshot: null };
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
  }
}
