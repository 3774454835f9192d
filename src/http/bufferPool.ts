/**
 * Reusable buffers for small file bodies, in power-of-two size classes. A fresh buffer for
 * every file costs page faults on first touch (more than the read itself on this kind of
 * VM); a buffer comes back only after its request completed, so none is reused while a
 * socket may still read it. At most `perClass` idle buffers are kept per class.
 */
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();

  constructor(private readonly perClass = 64, private readonly minBytes = 4096) {}

  take(bytes: number): Buffer {
    const size = Math.max(this.minBytes, 2 ** Math.ceil(Math.log2(Math.max(1, bytes))));
    return this.free.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
  }

  give(buf: Buffer): void {
    const list = this.free.get(buf.length) ?? [];
    if (list.length < this.perClass) list.push(buf);
    this.free.set(buf.length, list);
  }
}
