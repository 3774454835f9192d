import { Writable } from 'node:stream';

/**
 * The stream the logger writes to: straight through to `out` (stderr), or, while
 * progress bars own the terminal, line by line to a function that prints above the
 * bars (`MultiBar.log`), so log lines and bars do not garble each other.
 */
export class LogRouter extends Writable {
  private to: ((line: string) => void) | null = null;
  private partial = '';

  constructor(private readonly out: NodeJS.WritableStream) {
    super();
  }

  /** Send whole lines to `to` from now on; null sends everything to `out` again. */
  route(to: ((line: string) => void) | null): void {
    if (to === null && this.partial) {
      this.out.write(this.partial);
      this.partial = '';
    }
    this.to = to;
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    const text = chunk.toString();
    if (!this.to) {
      this.out.write(text);
      return done();
    }
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.to(`${line}\n`);
    done();
  }
}
