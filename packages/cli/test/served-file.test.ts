import { tableFromArrays } from 'apache-arrow'
import { describe, expect, it } from 'vitest'
import { servedRecords } from '../src/served-file.js'

describe('servedRecords', () => {
  it('reads served values in the log layout, with the read interval when answered_time is there', () => {
    const t = tableFromArrays({
      entity: ['a', 'b'],
      feature: ['clicks', 'page'],
      value_int64: [3n, null],
      value_string: [null, 'home'],
      event_time: new Float64Array([10, 20]),
      read_time: new Float64Array([100, 200]),
      answered_time: new Float64Array([103, 204]),
    })
    expect(servedRecords(t, 'served.parquet')).toEqual([
      { entity: 'a', feature: 'clicks', value: 3, eventTime: 10, readTime: 100, answeredTime: 103 },
      { entity: 'b', feature: 'page', value: 'home', eventTime: 20, readTime: 200, answeredTime: 204 },
    ])
  })

  it('reads the camelCase names of ServedRecord and a single value column; a missing value is null', () => {
    const t = tableFromArrays({
      entity: ['a'],
      feature: ['x'],
      value: [null],
      readTime: new Float64Array([5]),
    })
    expect(servedRecords(t, 's.parquet')).toEqual([
      { entity: 'a', feature: 'x', value: null, eventTime: null, readTime: 5 },
    ])
  })

  it('names the missing columns and the ones the file has', () => {
    const t = tableFromArrays({ entity: ['a'], value: [1] })
    expect(() => servedRecords(t, 's.parquet')).toThrow(
      /s\.parquet: missing column\(s\) feature, read_time; has entity, value/,
    )
  })
})
