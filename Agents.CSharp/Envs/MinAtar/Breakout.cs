using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Envs.MinAtar;

/// <summary>
/// MinAtar Breakout (the reference breakout.py): a paddle on the bottom row bounces a ball that moves
/// only along diagonals into three rows of bricks; +1 per brick broken; when every brick is gone, the
/// three rows come back as the ball next reaches the bottom row; the ball reaching the bottom row
/// anywhere but at the paddle ends the game. Channels: 0 paddle, 1 ball, 2 trail (the ball's previous
/// cell), 3 brick. No difficulty ramping.
/// </summary>
public sealed class Breakout : MinAtarGame
{
    private const int Paddle = 0, Ball = 1, Trail = 2, Brick = 3;
    private const int FirstBrickRow = 1, LastBrickRow = 3;
    private const ushort FullRow = (1 << Size) - 1;
    private const int BottomRow = Size - 1;

    /// <summary>Bricks as one bit mask per row (bit x set: a brick in column x).</summary>
    private readonly ushort[] brickRows = new ushort[Size];
    private int brickCount;
    private int paddleX;
    private int ballX, ballY, lastX, lastY;
    private int directionX, directionY;
    /// <summary>Whether the ball broke a brick at the last step: it then passes through the next brick it meets without breaking it.</summary>
    private bool strike;

    public Breakout(EnvironmentOptions options)
        : base("minatar/breakout", 4, [MinAtarAction.NoOp, MinAtarAction.Left, MinAtarAction.Right], options)
    {
    }

    protected override void SaveGame(StateWriter writer)
    {
        writer.Write<ushort>(brickRows);
        foreach (var value in (int[])[brickCount, paddleX, ballX, ballY, lastX, lastY, directionX, directionY])
            writer.Write(value);
        writer.Write(strike);
    }

    protected override void LoadGame(StateReader reader)
    {
        reader.ReadInto<ushort>(brickRows);
        (brickCount, paddleX, ballX, ballY) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        (lastX, lastY, directionX, directionY) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        strike = reader.ReadBoolean();
    }

    protected override void ResetGame()
    {
        // The ball starts on row 3, in the left corner heading down-right or the right corner heading down-left.
        var fromLeft = Random.NextInt(2) == 0;
        ballX = fromLeft ? 0 : Size - 1;
        ballY = 3;
        directionX = fromLeft ? 1 : -1;
        directionY = 1;
        lastX = ballX;
        lastY = ballY;
        paddleX = 4;
        ClearBricks();
        FillBricks();
        strike = false;
    }

    protected override (float Reward, bool Terminal) Act(MinAtarAction action)
    {
        var reward = 0f;
        var terminal = false;
        if (action == MinAtarAction.Left) paddleX = Math.Max(0, paddleX - 1);
        else if (action == MinAtarAction.Right) paddleX = Math.Min(Size - 1, paddleX + 1);

        lastX = ballX;
        lastY = ballY;
        var newX = ballX + directionX;
        var newY = ballY + directionY;
        var struckBrick = false;
        if (newX < 0 || newX > Size - 1)
        {
            newX = Math.Clamp(newX, 0, Size - 1);
            directionX = -directionX;
        }
        if (newY < 0)
        {
            newY = 0;
            directionY = -directionY;
        }
        else if (HasBrick(newY, newX))
        {
            struckBrick = true;
            if (!strike)
            {
                reward = 1f;
                strike = true;
                RemoveBrick(newY, newX);
                newY = lastY;
                directionY = -directionY;
            }
        }
        else if (newY == BottomRow)
        {
            // Cleared bricks come back when the ball reaches the bottom row (before the paddle is checked).
            if (brickCount == 0) FillBricks();
            if (ballX == paddleX)
            {
                // Falling onto the paddle from straight above: bounce back up, keeping the horizontal direction.
                directionY = -directionY;
                newY = lastY;
            }
            else if (newX == paddleX)
            {
                // Meeting the paddle diagonally: bounce back the way it came.
                directionX = -directionX;
                directionY = -directionY;
                newY = lastY;
            }
            else terminal = true;
        }
        if (!struckBrick) strike = false;

        ballX = newX;
        ballY = newY;
        return (reward, terminal);
    }

    protected override void Draw(Span<float> observation)
    {
        Set(observation, Ball, ballY, ballX);
        Set(observation, Paddle, BottomRow, paddleX);
        Set(observation, Trail, lastY, lastX);
        for (var y = 0; y < Size; y++)
            for (int row = brickRows[y]; row != 0; row &= row - 1)
                Set(observation, Brick, y, System.Numerics.BitOperations.TrailingZeroCount(row));
    }

    private bool HasBrick(int y, int x) => (brickRows[y] & (1 << x)) != 0;

    private void RemoveBrick(int y, int x)
    {
        brickRows[y] &= (ushort)~(1 << x);
        brickCount--;
    }

    private void FillBricks()
    {
        for (var y = FirstBrickRow; y <= LastBrickRow; y++)
        {
            brickCount += Size - System.Numerics.BitOperations.PopCount(brickRows[y]);
            brickRows[y] = FullRow;
        }
    }

    /// <summary>For tests: puts the paddle and the ball (its previous cell is taken to be its current one) with a diagonal direction (each -1 or +1).</summary>
    internal void Place(int paddle, int ballColumn, int ballRow, int stepX, int stepY, bool struckLastStep = false)
    {
        paddleX = paddle;
        ballX = lastX = ballColumn;
        ballY = lastY = ballRow;
        directionX = stepX;
        directionY = stepY;
        strike = struckLastStep;
    }

    /// <summary>For tests: puts or removes one brick.</summary>
    internal void SetBrick(int row, int column, bool present)
    {
        if (HasBrick(row, column) == present) return;
        if (present)
        {
            brickRows[row] |= (ushort)(1 << column);
            brickCount++;
        }
        else RemoveBrick(row, column);
    }

    /// <summary>For tests: removes every brick.</summary>
    internal void ClearBricks()
    {
        Array.Clear(brickRows);
        brickCount = 0;
    }

    /// <summary>Bricks left.</summary>
    internal int BrickCount => brickCount;
}
