import { expect } from 'chai';
import { UploadError } from '../../../src/errors.js';
import { classifyError, isHostFault, isTransientStatus, parseRetryAfter } from '../../../src/http/classifyResponse.js';

const withCode = (code: string, message = `${code} happened`) => Object.assign(new Error(message), { code });

describe('classifyResponse', () => {
  describe('isTransientStatus', () => {
    for (const status of [408, 422, 429, 500, 502, 503, 504, 599]) {
      it(`should retry ${status}`, () => expect(isTransientStatus(status)).to.equal(true));
    }
    for (const status of [400, 401, 403, 404, 405, 409, 413, 415]) {
      it(`should not retry ${status}`, () => expect(isTransientStatus(status)).to.equal(false));
    }
  });

  describe('parseRetryAfter', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    it('should read delta-seconds as milliseconds', () => {
      expect(parseRetryAfter('1', now)).to.equal(1000);
      expect(parseRetryAfter(' 120 ', now)).to.equal(120_000);
      expect(parseRetryAfter('0', now)).to.equal(0);
    });
    it('should read fractional seconds too (not as a date, which V8 would make of "1.5")', () => {
      expect(parseRetryAfter('1.5', now)).to.equal(1500);
    });
    it('should read an HTTP date as the time left until it', () => {
      expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).to.equal(5000);
    });
    it('should read an HTTP date already past as no wait', () => {
      expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).to.equal(0);
    });
    it('should take the first of repeated headers', () => {
      expect(parseRetryAfter(['2', '9'], now)).to.equal(2000);
    });
    it('should give undefined for an absent or unreadable value', () => {
      expect(parseRetryAfter(undefined, now)).to.equal(undefined);
      expect(parseRetryAfter('', now)).to.equal(undefined);
      expect(parseRetryAfter('soon', now)).to.equal(undefined);
      expect(parseRetryAfter('-5', now)).to.equal(undefined);
    });
  });

  describe('classifyError', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']) {
      it(`should call ${code} transient and keep the original as cause`, () => {
        const raw = withCode(code);
        const err = classifyError(raw);
        expect(err).to.be.instanceOf(UploadError);
        expect(err.transient).to.equal(true);
        expect(err.statusCode).to.equal(undefined);
        expect(err.cause).to.equal(raw);
        expect(err.message).to.contain(code);
      });
    }
    it('should find the code on the cause (fetch-style wrapping)', () => {
      const err = classifyError(new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') }));
      expect(err.transient).to.equal(true);
      expect(err.message).to.equal('ECONNREFUSED: fetch failed');
    });
    for (const code of ['ENOENT', 'EACCES', 'EISDIR', 'EPERM', 'ELOOP', 'FANOUT_FILE_CHANGED']) {
      it(`should not retry a local ${code}: retrying will not heal the file`, () => {
        expect(classifyError(withCode(code)).transient).to.equal(false);
      });
    }
    it('should pass an UploadError through as it is', () => {
      const e = new UploadError('HTTP 403', false, 403);
      expect(classifyError(e)).to.equal(e);
    });
    it('should treat an error without a code as transient network trouble', () => {
      const err = classifyError(new Error('something odd'));
      expect(err.transient).to.equal(true);
      expect(err.message).to.equal('UNKNOWN: something odd');
    });
  });

  describe('isHostFault', () => {
    it('should count 408, 429 and 5xx against the host', () => {
      for (const s of [408, 429, 500, 503]) expect(isHostFault(new UploadError(`HTTP ${s}`, true, s)), String(s)).to.equal(true);
    });
    it('should not count a checksum mismatch (422) or a permanent 4xx against the host', () => {
      expect(isHostFault(new UploadError('checksum mismatch', true, 422))).to.equal(false);
      for (const s of [400, 401, 403, 404, 413]) expect(isHostFault(new UploadError(`HTTP ${s}`, false, s)), String(s)).to.equal(false);
    });
    it('should count network trouble against the host, but not a local file problem', () => {
      expect(isHostFault(classifyError(withCode('ECONNREFUSED')))).to.equal(true);
      expect(isHostFault(classifyError(withCode('UND_ERR_SOCKET')))).to.equal(true);
      expect(isHostFault(classifyError(withCode('ENOENT')))).to.equal(false);
    });
  });
});
