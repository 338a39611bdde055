/// Figures for reports, drawn with ScottPlot: line charts with intervals and rliable's interval-estimate
/// panels, alone or in a grid of panels (one per environment), each rendered as a PNG at print resolution and
/// as an SVG beside it (nothing is written here: the bytes are returned).
module Prunerl.Cli.Plots

open System
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Experiments.Metrics

/// One line of a chart, with an interval (lower, upper) at each point or none.
type Line =
    { Label: string
      Xs: float[]
      Ys: float[]
      Interval: (float[] * float[]) option }

/// How intervals are drawn: a shaded band (curves over training) or error bars (a few points).
type IntervalStyle =
    | Band
    | Bars

/// The x axis of a line chart.
type XAxis =
    /// Numbers as they are (steps, thresholds).
    | Continuous
    /// Categories at positions 0, 1, ... labelled in order (the widths of a width-scaling plot: equally spaced
    /// whatever their values); the lines are dodged sideways so their intervals do not overlap.
    | Categorical of labels: string list

/// A line chart: its lines, their intervals and axes.
type Chart =
    { Title: string
      XLabel: string
      YLabel: string
      Style: IntervalStyle
      XAxis: XAxis
      Lines: Line list
      /// Fixed y limits (a sparsity or probability), or None to fit the data.
      YLimits: (float * float) option }

/// One row of an interval-estimate panel: a group's point estimate and its interval.
type IntervalRow = { Label: string; Value: Interval }

/// rliable's interval-estimate panel (Agarwal et al. 2021, Fig. 1 and rliable's plot_interval_estimates):
/// one horizontal interval per group, its point estimate marked; a reference value (0.5 for a probability of
/// improvement) drawn as a dashed vertical line.
type IntervalPanel =
    { Title: string
      XLabel: string
      Rows: IntervalRow list
      Reference: float option }

/// One panel of a figure.
type Panel =
    | Lines of Chart
    | Intervals of IntervalPanel

/// A figure: its panels laid out in a grid of the given number of columns, under a heading (drawn unless it
/// is empty or the lone panel's own title).
type Figure =
    { Heading: string
      Columns: int
      Panels: Panel list }

/// Width and height of one panel, in layout units (pixels of the SVG; the PNG has Scale times as many).
let size = 900, 540

/// How many PNG pixels per layout unit: 2 gives 1800 x 1080 pixels per panel, 300 dpi at 6 inches wide.
let scale = 2.0

/// A figure of one chart.
let single (chart: Chart) : Figure = { Heading = chart.Title; Columns = 1; Panels = [ Lines chart ] }

/// A line chart with the defaults: continuous x axis, y fitted to the data.
let chart (title: string) (xLabel: string) (yLabel: string) (style: IntervalStyle) (lines: Line list) : Chart =
    { Title = title; XLabel = xLabel; YLabel = yLabel; Style = style; XAxis = Continuous; Lines = lines; YLimits = None }

/// Sideways offset of line i of n on a categorical axis, so n groups' intervals at one category sit side by
/// side within 0.08 of a category's spacing on each side.
let dodge (n: int) (i: int) : float = if n <= 1 then 0.0 else 0.16 * (float i / float (n - 1) - 0.5)

/// The labels of a figure's lines and rows, in order of first appearance: a label's place here is its colour,
/// so one group has one colour in every panel of a figure (a per-game grid where a game lacks a group would
/// otherwise shift the colours of the groups after it).
let labels (figure: Figure) : string list =
    figure.Panels
    |> List.collect (function
        | Lines chart -> chart.Lines |> List.map (fun l -> l.Label)
        | Intervals panel -> panel.Rows |> List.map (fun r -> r.Label))
    |> List.distinct

let private drawLines (plot: ScottPlot.Plot) (colorOf: string -> ScottPlot.Color) (chart: Chart) =
    let n = chart.Lines.Length
    chart.Lines
    |> List.iteri (fun i line ->
        let color = colorOf line.Label
        let xs =
            match chart.XAxis with
            | Continuous -> line.Xs
            | Categorical _ -> line.Xs |> Array.map (fun x -> x + dodge n i)
        match line.Interval, chart.Style with
        | Some(lower, upper), Band when xs.Length > 1 ->
            let band = plot.Add.FillY(xs, lower, upper)
            band.FillColor <- color.WithAlpha 0.2
            band.LineWidth <- 0.0f
        | Some(lower, upper), _ ->
            let bars = plot.Add.ErrorBar(xs, line.Ys, Array.zeroCreate xs.Length)
            bars.YErrorPositive <- Array.map2 (-) upper line.Ys
            bars.YErrorNegative <- Array.map2 (-) line.Ys lower
            bars.Color <- color
            bars.LineWidth <- 2.0f
        | None, _ -> ()
        let scatter = plot.Add.Scatter(xs, line.Ys, color)
        scatter.LegendText <- line.Label
        scatter.LineWidth <- 2.0f
        scatter.MarkerSize <- (if chart.Style = Bars || xs.Length <= 30 then 7.0f else 0.0f))
    match chart.XAxis with
    | Categorical labels ->
        let positions = labels |> List.mapi (fun i _ -> float i) |> Array.ofList
        plot.Axes.Bottom.SetTicks(positions, Array.ofList labels)
        plot.Axes.SetLimitsX(-0.6, float labels.Length - 0.4)
    | Continuous -> ()
    match chart.YLimits with
    | Some(lo, hi) -> plot.Axes.SetLimitsY(lo, hi)
    | None -> ()
    plot.Title(chart.Title, 13.0f)
    plot.XLabel chart.XLabel
    plot.YLabel chart.YLabel
    if n > 0 then plot.ShowLegend(ScottPlot.Edge.Right) |> ignore

let private drawIntervals (plot: ScottPlot.Plot) (colorOf: string -> ScottPlot.Color) (panel: IntervalPanel) =
    let rows = panel.Rows |> Array.ofList
    // rliable draws the first group on top: row i at height n-1-i.
    let height i = float (rows.Length - 1 - i)
    rows
    |> Array.iteri (fun i row ->
        let color = colorOf row.Label
        let bar = plot.Add.Line(row.Value.Lower, height i, row.Value.Upper, height i)
        bar.Color <- color
        bar.LineWidth <- 14.0f
        bar.MarkerSize <- 0.0f
        // A square under the estimate, so an interval of one point (one run) still shows its group's colour.
        let point = plot.Add.Marker(row.Value.Estimate, height i, ScottPlot.MarkerShape.FilledSquare, 14.0f, color)
        point.LegendText <- ""
        let mark = plot.Add.Line(row.Value.Estimate, height i - 0.22, row.Value.Estimate, height i + 0.22)
        mark.Color <- ScottPlot.Colors.Black
        mark.LineWidth <- 2.5f
        mark.MarkerSize <- 0.0f)
    match panel.Reference with
    | Some x ->
        let line = plot.Add.VerticalLine x
        line.LinePattern <- ScottPlot.LinePattern.Dashed
        line.Color <- ScottPlot.Colors.Gray
    | None -> ()
    plot.Axes.Left.SetTicks(rows |> Array.mapi (fun i _ -> height i), rows |> Array.map (fun r -> r.Label))
    plot.Axes.SetLimitsY(-0.7, float rows.Length - 0.3)
    let values = rows |> Array.collect (fun r -> [| r.Value.Lower; r.Value.Upper |]) |> Array.filter Double.IsFinite
    let values = match panel.Reference with Some x -> Array.append values [| x |] | None -> values
    if values.Length > 0 then
        let lo, hi = Array.min values, Array.max values
        let pad = if hi > lo then 0.08 * (hi - lo) else 0.5
        plot.Axes.SetLimitsX(lo - pad, hi + pad)
    plot.Title(panel.Title, 13.0f)
    plot.XLabel panel.XLabel

let private draw (figure: Figure) (panel: Panel) : ScottPlot.Plot =
    let plot = new ScottPlot.Plot()
    let palette = ScottPlot.Palettes.Category10()
    let order = labels figure
    let colorOf label = palette.GetColor(List.findIndex ((=) label) order)
    match panel with
    | Lines chart -> drawLines plot colorOf chart
    | Intervals intervals -> drawIntervals plot colorOf intervals
    plot

/// The figure's grid: (columns, rows) and the heading's height in layout units (none when the heading is
/// empty or is the lone panel's own title).
let private layout (figure: Figure) =
    let columns = max 1 (min figure.Columns figure.Panels.Length)
    let rows = (figure.Panels.Length + columns - 1) / columns
    let title panel = match panel with Lines c -> c.Title | Intervals i -> i.Title
    let shown = figure.Heading <> "" && (figure.Panels.Length > 1 || figure.Panels |> List.exists (fun p -> title p <> figure.Heading))
    let heading = if shown then 44 else 0
    columns, rows, heading

/// The figure as PNG bytes: each panel size, times `scale` pixels, in its grid cell, under the heading.
let png (figure: Figure) : byte[] =
    let width, height = size
    let columns, rows, heading = layout figure
    let px (units: int) = int (Math.Round(float units * scale))
    use surface = SkiaSharp.SKSurface.Create(SkiaSharp.SKImageInfo(px (columns * width), px (rows * height + heading)))
    let canvas = surface.Canvas
    canvas.Clear SkiaSharp.SKColors.White
    if heading > 0 then
        use font = new SkiaSharp.SKFont(SkiaSharp.SKTypeface.Default, float32 (18.0 * scale))
        use paint = new SkiaSharp.SKPaint(Color = SkiaSharp.SKColors.Black, IsAntialias = true)
        canvas.DrawText(figure.Heading, float32 (px (columns * width)) / 2.0f, float32 (px 30), SkiaSharp.SKTextAlign.Center, font, paint)
    figure.Panels
    |> List.iteri (fun i panel ->
        // Each panel drawn alone, as a single chart, then placed: ScottPlot draws a whole figure per canvas.
        use plot = draw figure panel
        plot.ScaleFactor <- scale
        use bitmap = SkiaSharp.SKBitmap.Decode(plot.GetImageBytes(px width, px height, ScottPlot.ImageFormat.Png))
        let x, y = (i % columns) * width, heading + (i / columns) * height
        canvas.DrawBitmap(bitmap, float32 (px x), float32 (px y)))
    use image = surface.Snapshot()
    use data = image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100)
    data.ToArray()

/// The figure as SVG text: each panel's own SVG nested at its grid cell, under the heading.
let svg (figure: Figure) : string =
    let width, height = size
    let columns, rows, heading = layout figure
    let escape (text: string) = Security.SecurityElement.Escape text
    let stripDeclaration (text: string) =
        if text.StartsWith "<?xml" then text.Substring(text.IndexOf("?>") + 2).TrimStart() else text
    let cells =
        figure.Panels
        |> List.mapi (fun i panel ->
            use plot = draw figure panel
            let inner = stripDeclaration (plot.GetSvgXml(width, height))
            let x, y = (i % columns) * width, heading + (i / columns) * height
            // The panel's own SVG document, unchanged, moved to its cell.
            sprintf "<g transform=\"translate(%d,%d)\">%s</g>" x y inner)
    let title =
        if heading > 0 then
            sprintf "<text x=\"%d\" y=\"30\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"18\">%s</text>" (columns * width / 2) (escape figure.Heading)
        else ""
    sprintf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"><rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>%s%s</svg>"
        (columns * width) (rows * height + heading) (columns * width) (rows * height + heading) title (String.concat "" cells)

/// The figure's files: NAME.png and NAME.svg.
let files (name: string) (figure: Figure) : (string * byte[]) list =
    [ name + ".png", png figure; name + ".svg", Text.Encoding.UTF8.GetBytes(svg figure) ]

/// A curve's steps, aggregates and interval ends as a chart line.
let ofCurve (label: string) (curve: Curve) (withInterval: bool) : Line =
    { Label = label
      Xs = curve.Points |> Array.map (fun p -> float p.Step)
      Ys = curve.Points |> Array.map (fun p -> p.Value.Estimate)
      Interval =
        if withInterval then Some(curve.Points |> Array.map (fun p -> p.Value.Lower), curve.Points |> Array.map (fun p -> p.Value.Upper))
        else None }

/// A file name part from free text: letters, digits, '.', '_' and '-' kept, anything else '-'.
let slug (text: string) = text |> String.map (fun c -> if Char.IsLetterOrDigit c || c = '.' || c = '_' || c = '-' then c else '-')
