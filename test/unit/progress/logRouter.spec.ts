import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { LogRouter } from '../../../src/progress/logRouter.js';

const collect = () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  return { out, text: () => text };
};

describe('LogRouter', () => {
  it('should pass writes straight through when not routed', () => {
    const { out, text } = collect();
    const r = new LogRouter(out);
    r.write('a\n');
    r.write('b');
    expect(text()).to.equal('a\nb');
  });

  it('should hand whole lines to the route, and the rest of a line once unrouted', () => {
    const { out, text } = collect();
    const r = new LogRouter(out);
    const lines: string[] = [];
    r.route((l) => lines.push(l));
    r.write('one\ntw');
    r.write('o\nthr');
    expect(lines).to.deep.equal(['one\n', 'two\n']);
    expect(text()).to.equal('');
    r.route(null);
    r.write('ee\n');
    expect(text()).to.equal('three\n');
  });
});
