"""B copies of a network trained together (``nets.copies``): each copy equals the single run with
its setting (float64), a diverging copy leaves the others as they were, bad input is refused."""

import pytest
import torch

from helpers import float32_default, mnist_folder  # noqa: F401 - an autouse fixture
from landscape import optim
from landscape.nets import copies, loop, mnist, models
from landscape.nets.slice import flat_weights

DTYPE = torch.float64


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """60 training and 20 validation images of random pixels in MNIST's format."""
    return mnist.load(mnist_folder(tmp_path_factory.mktemp("mnist"), train=60, test=20), val_size=20)


def _single_run(data, model_name, spec, *, lr, momentum=None, epochs=2, batch_size=16, seed=0, init_seed=None,
                **hyperparameters):
    """One model trained alone, in float64, the plain way: its final weights, its step losses and
    its validation loss."""
    model = models.create(model_name, seed if init_seed is None else init_seed).to(DTYPE)
    if momentum is not None:
        hyperparameters["momentum"] = momentum
    optimizer = optim.build(spec, model.parameters(), seed=seed, lr=lr, **hyperparameters)
    losses = []
    for epoch in range(1, epochs + 1):
        generator = loop.batch_order(seed, epoch)
        for x, y in data.train_batches(batch_size, generator, DTYPE):
            loss, _ = models.loss_and_correct(model, x, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        x = data.normalise(data.val_images, DTYPE)
        val_loss = models.loss_and_correct(model, x, data.val_labels)[0].item()
    return flat_weights(model), losses, val_loss


@pytest.mark.parametrize("spec, extra", [("momentum", {}), ("adam", {}), ("nesterov+lookahead", {"lookahead_k": 3}),
                                         ("adamw", {"weight_decay": 0.1})])
def test_each_copy_equals_the_single_run_with_its_setting(tiny, spec, extra):
    lrs, momenta = [0.01, 0.05, 0.002], [0.3, 0.5, 0.9]
    result = copies.train_copies("mnist-mlp", spec, tiny, lr=lrs, momentum=momenta, epochs=2, batch_size=16,
                                 dtype=DTYPE, **extra)
    assert result.count == 3 and result.step_losses.shape == (8, 3) and len(result.epochs) == 2
    for b, (lr, momentum) in enumerate(zip(lrs, momenta)):
        weights, losses, val_loss = _single_run(tiny, "mnist-mlp", spec, lr=lr, momentum=momentum, **extra)
        torch.testing.assert_close(result.weights[b], weights, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(result.step_losses[:, b], torch.tensor(losses, dtype=DTYPE), rtol=1e-10, atol=0)
        assert result.epochs[-1].val_loss[b].item() == pytest.approx(val_loss, rel=1e-10)
    assert (result.diverged_at == -1).all()


@pytest.mark.parametrize("spec, extra", [
    ("sgd+gradnoise", {"noise_eta": 0.3}),
    ("sgd+graddropout", {"grad_keep_prob": 0.6}),
    ("adam+lrdropout", {"lr_keep_prob": 0.5}),
    ("momentum+graddropout+gradnoise+lrdropout+lookahead", {"noise_eta": 0.3, "grad_keep_prob": 0.6,
                                                           "lr_keep_prob": 0.5, "lookahead_k": 3}),
])
def test_randomised_extensions_draw_what_each_copy_s_single_run_draws(tiny, spec, extra):
    """Gradient noise and dropout masks: copy b sees the random numbers of its single run."""
    lrs = [0.01, 0.05]
    momenta = [0.5, 0.9] if spec.startswith(("momentum", "adam")) else None
    result = copies.train_copies("mnist-mlp", spec, tiny, lr=lrs, momentum=momenta, epochs=2, batch_size=16,
                                 dtype=DTYPE, seed=5, **extra)
    for b, lr in enumerate(lrs):
        weights, losses, _ = _single_run(tiny, "mnist-mlp", spec, lr=lr, momentum=None if momenta is None else momenta[b],
                                         seed=5, **extra)
        torch.testing.assert_close(result.weights[b], weights, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(result.step_losses[:, b], torch.tensor(losses, dtype=DTYPE), rtol=1e-10, atol=0)


def test_a_diverging_copy_is_marked_and_the_others_go_on_unaffected(tiny):
    together = copies.train_copies("mnist-mlp", "sgd", tiny, lr=[0.05, 1e300, 0.01], epochs=2, batch_size=16, dtype=DTYPE)
    alone = copies.train_copies("mnist-mlp", "sgd", tiny, lr=[0.05, 0.01], epochs=2, batch_size=16, dtype=DTYPE)
    assert together.diverged_at[1] >= 1 and together.diverged_at[[0, 2]].tolist() == [-1, -1]
    assert not torch.isfinite(together.step_losses[-1, 1])
    assert torch.equal(together.weights[[0, 2]], alone.weights), "bit for bit: no copy reaches another"
    assert torch.equal(together.step_losses[:, [0, 2]], alone.step_losses)


def test_copies_may_start_from_their_own_seeds(tiny):
    result = copies.train_copies("mnist-mlp", "sgd", tiny, lr=0.05, seeds=[3, 4], epochs=1, batch_size=16, dtype=DTYPE)
    for b, init_seed in enumerate((3, 4)):
        weights, _, _ = _single_run(tiny, "mnist-mlp", "sgd", lr=0.05, epochs=1, init_seed=init_seed)
        torch.testing.assert_close(result.weights[b], weights, rtol=1e-10, atol=1e-12)


def test_classification_copies_report_their_accuracy(tiny):
    result = copies.train_copies("mnist-mlp", "adam", tiny, lr=[1e-3, 1e-2], epochs=1, batch_size=16)
    accuracy = result.epochs[0].val_accuracy
    assert accuracy.shape == (2,) and ((accuracy >= 0) & (accuracy <= 1)).all()


@pytest.mark.parametrize("model, spec, options, message", [
    ("seed-cnn", "sgd", dict(lr=0.1), "Invalid model 'seed-cnn' for batched copies: its buffers"),
    ("mnist-mlp", "adagrad", dict(lr=0.1, momentum=[0.1, 0.2]), "Invalid momentum: 'adagrad' has no momentum"),
    ("mnist-mlp", "momentum", dict(lr=[0.1, 0.2], momentum=[0.1, 0.2, 0.3]), "Invalid momentum: 3 values for 2 copies"),
    ("mnist-mlp", "sgd", dict(lr=[0.1, float("nan")]), "Invalid lr: [0.1, nan] (expected finite numbers)"),
    ("mnist-mlp", "sgd", dict(lr=0.1, epochs=0), "Invalid epochs: 0"),
    ("mnist-mlp", "sdg", dict(lr=0.1), "unknown base rule 'sdg'"),
])
def test_bad_input_is_refused_before_training(tiny, model, spec, options, message):
    with pytest.raises(ValueError) as error:
        copies.train_copies(model, spec, tiny, **options)
    assert message in str(error.value)
