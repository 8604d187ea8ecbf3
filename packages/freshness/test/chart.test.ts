import { Resvg } from '@resvg/resvg-js'
import type { FeatureWrite } from '@skewless/core'
import { memoryLog } from '@skewless/offline-log'
import { describe, expect, it } from 'vitest'
import { type FreshnessReport, freshnessReport, renderFreshnessChart, SERIES_COLOURS } from '../src/index.js'

const T = Date.UTC(2026, 0, 1)
const MIN = 60_000

async function twoFeatureReport(): Promise<FreshnessReport> {
  const log = memoryLog({ features: { clicks: 'int64', spend: 'double' } })
  const writes: FeatureWrite[] = []
  for (const feature of ['clicks', 'spend']) {
    for (let i = 0; i <= 240; i++) {
      for (const entity of ['a', 'b', 'c']) {
        const ev = T + i * MIN
        writes.push({
          entity,
          feature,
          value: i,
          eventTime: ev,
          availableTime: ev + 5_000,
          version: 0,
          outcome: 'applied',
        })
      }
    }
  }
  await log.append(writes)
  return freshnessReport(log, { batchEvery: '1h', samples: 120 })
}

/** Rasterize like a person opening the file, and find each series' pixels by colour. */
function pixels(svg: string): {
  width: number
  height: number
  colour: (hex: string) => { count: number; meanY: number }
  nonWhite: number
} {
  const image = new Resvg(svg, { background: 'white' }).render()
  const { width, height } = image
  const px = image.pixels
  let nonWhite = 0
  for (let i = 0; i < px.length; i += 4)
    if ((px[i] as number) + (px[i + 1] as number) + (px[i + 2] as number) < 720) nonWhite++
  const colour = (hex: string) => {
    const [r, g, b] = [1, 3, 5].map((o) => Number.parseInt(hex.slice(o, o + 2), 16)) as [
      number,
      number,
      number,
    ]
    let count = 0
    let sumY = 0
    for (let i = 0; i < px.length; i += 4) {
      const d =
        Math.abs((px[i] as number) - r) +
        Math.abs((px[i + 1] as number) - g) +
        Math.abs((px[i + 2] as number) - b)
      if (d < 40) {
        count++
        sumY += Math.floor(i / 4 / width)
      }
    }
    return { count, meanY: count === 0 ? Number.NaN : sumY / count }
  }
  return { width, height, colour, nonWhite }
}

describe('renderFreshnessChart', () => {
  it('draws a standalone SVG with one panel per feature and both series, visible once rasterized', async () => {
    const report = await twoFeatureReport()
    const svg = renderFreshnessChart(report)
    expect(svg).toMatch(/^<\?xml[^>]*>\n<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
    expect(svg).toContain('clicks')
    expect(svg).toContain('spend')
    expect(svg).toContain('batch, materialized every 1h')
    const img = pixels(svg)
    expect(img.width).toBe(900)
    expect(img.height).toBe(86 + 2 * 180)
    expect(img.nonWhite).toBeGreaterThan(5000) // not blank
    const streaming = img.colour(SERIES_COLOURS.streaming)
    const batch = img.colour(SERIES_COLOURS.batch)
    // Two panels of a 2-px line across ~760 px each (anti-aliased edges fall outside the tolerance).
    expect(streaming.count).toBeGreaterThan(1000)
    expect(batch.count).toBeGreaterThan(1000)
    // Streaming hugs the bottom of its panels (5 s old); the sawtooth climbs to an hour above it.
    expect(streaming.meanY).toBeGreaterThan(batch.meanY + 20)
  })

  it('draws the served values as dots of their own colour when the report has them', async () => {
    const base = await twoFeatureReport()
    expect(pixels(renderFreshnessChart(base)).colour(SERIES_COLOURS.served).count).toBe(0)
    const log = memoryLog({ features: { clicks: 'int64' } })
    const writes: FeatureWrite[] = []
    for (let i = 0; i <= 240; i++) {
      writes.push({
        entity: 'a',
        feature: 'clicks',
        value: i,
        eventTime: T + i * MIN,
        availableTime: T + i * MIN + 5_000,
        version: 0,
        outcome: 'applied',
      })
    }
    await log.append(writes)
    const served = Array.from({ length: 120 }, (_, i) => ({
      feature: 'clicks',
      eventTime: T + 2 * i * MIN,
      readTime: T + 2 * i * MIN + 30_000,
    }))
    const report = await freshnessReport(log, { samples: 120, served })
    const img = pixels(renderFreshnessChart(report))
    expect(img.colour(SERIES_COLOURS.served).count).toBeGreaterThan(500)
  })

  it('renders an empty report as an empty frame rather than failing', () => {
    const svg = renderFreshnessChart({ batchEveryMs: 3_600_000, features: [] })
    const img = pixels(svg)
    expect(img.colour(SERIES_COLOURS.batch).count).toBeLessThan(400) // only the legend
  })
})
