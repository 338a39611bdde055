using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Envs.MinAtar;

/// <summary>
/// MinAtar Freeway (the reference freeway.py): a chicken in column 4 crosses eight lanes of traffic
/// (rows 1 to 8) from the bottom row to the top; it can move one row at most every 3 steps; +1 on
/// reaching the top, which sends it back to the bottom and gives every car a new random speed and
/// direction; a car hitting it also sends it back to the bottom. Cars wrap around the sides. The game
/// ends itself when its 2500-step timer runs out (on the 2501st step, as the reference). Channels:
/// 0 chicken, 1 car, 2 to 6 the cell behind a car in the channel of its speed (1 to 5). No ramping.
/// </summary>
public sealed class Freeway : MinAtarGame
{
    private const int Chicken = 0, Car = 1, FirstSpeedChannel = 2;
    private const int ChickenColumn = 4;
    private const int BottomRow = Size - 1;
    private const int Lanes = 8;
    private const int MaxSpeed = 5;
    /// <summary>Steps the chicken waits after moving (the reference's player_speed).</summary>
    private const int MoveCooldown = 3;
    /// <summary>The reference's time_limit: the game ends when this many steps have gone by and one more is taken.</summary>
    public const int TimeLimit = 2500;

    /// <summary>Car i drives in row i + 1.</summary>
    private readonly CarState[] cars = new CarState[Lanes];
    private int chickenRow;
    private int moveTimer;
    private int terminateTimer;

    /// <summary>
    /// One car: its column; its velocity (-5..-1 or 1..5: the sign is the direction, the size how slowly
    /// it moves: it waits |velocity| steps between moves); and the steps left before it next moves.
    /// </summary>
    private struct CarState
    {
        public int X;
        public int Velocity;
        public int Timer;
    }

    public Freeway(EnvironmentOptions options)
        : base("minatar/freeway", 7, [MinAtarAction.NoOp, MinAtarAction.Up, MinAtarAction.Down], options)
    {
    }

    protected override void SaveGame(StateWriter writer)
    {
        foreach (var car in cars)
        {
            writer.Write(car.X);
            writer.Write(car.Velocity);
            writer.Write(car.Timer);
        }
        writer.Write(chickenRow);
        writer.Write(moveTimer);
        writer.Write(terminateTimer);
    }

    protected override void LoadGame(StateReader reader)
    {
        for (var i = 0; i < cars.Length; i++)
            cars[i] = new CarState { X = reader.ReadInt32(), Velocity = reader.ReadInt32(), Timer = reader.ReadInt32() };
        (chickenRow, moveTimer, terminateTimer) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
    }

    protected override void ResetGame()
    {
        RandomizeCars();
        for (var i = 0; i < Lanes; i++) cars[i].X = 0;
        chickenRow = BottomRow;
        moveTimer = MoveCooldown;
        terminateTimer = TimeLimit;
    }

    protected override (float Reward, bool Terminal) Act(MinAtarAction action)
    {
        var reward = 0f;
        if (action == MinAtarAction.Up && moveTimer == 0)
        {
            moveTimer = MoveCooldown;
            chickenRow = Math.Max(0, chickenRow - 1);
        }
        else if (action == MinAtarAction.Down && moveTimer == 0)
        {
            moveTimer = MoveCooldown;
            chickenRow = Math.Min(BottomRow, chickenRow + 1);
        }

        if (chickenRow == 0)
        {
            reward = 1f;
            RandomizeCars();
            chickenRow = BottomRow;
        }

        // Each car in turn: a hit where it stands, then (when its timer is up) a move, and a hit where it lands.
        for (var i = 0; i < Lanes; i++)
        {
            ref var car = ref cars[i];
            var row = i + 1;
            if (car.X == ChickenColumn && row == chickenRow) chickenRow = BottomRow;
            if (car.Timer == 0)
            {
                car.Timer = Math.Abs(car.Velocity);
                car.X = Wrap(car.X + Math.Sign(car.Velocity));
                if (car.X == ChickenColumn && row == chickenRow) chickenRow = BottomRow;
            }
            else car.Timer--;
        }

        if (moveTimer > 0) moveTimer--;
        terminateTimer--;
        return (reward, terminateTimer < 0);
    }

    protected override void Draw(Span<float> observation)
    {
        Set(observation, Chicken, chickenRow, ChickenColumn);
        for (var i = 0; i < Lanes; i++)
        {
            var car = cars[i];
            Set(observation, Car, i + 1, car.X);
            Set(observation, FirstSpeedChannel + Math.Abs(car.Velocity) - 1, i + 1, Wrap(car.X - Math.Sign(car.Velocity)));
        }
    }

    private static int Wrap(int x) => x < 0 ? Size - 1 : x > Size - 1 ? 0 : x;

    /// <summary>
    /// New speeds (uniform in 1..5) then directions (left or right, even odds) for all eight cars, drawn
    /// as the reference does; each car's timer restarts at its speed; positions are kept.
    /// </summary>
    private void RandomizeCars()
    {
        for (var i = 0; i < Lanes; i++) cars[i].Velocity = 1 + Random.NextInt(MaxSpeed);
        for (var i = 0; i < Lanes; i++)
        {
            if (Random.NextDouble() < 0.5) cars[i].Velocity = -cars[i].Velocity;
            cars[i].Timer = Math.Abs(cars[i].Velocity);
        }
    }

    /// <summary>For tests: puts the chicken on a row with its move cooldown.</summary>
    internal void PlaceChicken(int row, int cooldown)
    {
        chickenRow = row;
        moveTimer = cooldown;
    }

    /// <summary>For tests: sets the car of a lane (0..7, in row lane + 1).</summary>
    internal void PlaceCar(int lane, int column, int velocity, int timer) =>
        cars[lane] = new CarState { X = column, Velocity = velocity, Timer = timer };

    /// <summary>The velocity of the car of a lane (0..7).</summary>
    internal int CarVelocity(int lane) => cars[lane].Velocity;

    /// <summary>The column of the car of a lane (0..7).</summary>
    internal int CarColumn(int lane) => cars[lane].X;
}
