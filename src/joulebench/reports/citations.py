"""The works a methods section cites: BibTeX entries and the short references of a Markdown text.

Only the works a run actually used are cited (the methods writer asks for them by key); each
entry was checked against the publisher's record (journal, volume, pages, DOI) when written.
BibTeX fields stay on one line each (long author lists too), as BibTeX files are usually kept.
"""

# ruff: noqa: E501

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Work:
    """One cited work: its BibTeX key, the in-text form, the reference line and the entry."""

    key: str
    cite: str
    reference: str
    bibtex: str


_WORKS = (
    Work(
        "stein1945",
        "Stein, 1945",
        "Stein, C. (1945). A two-sample test for a linear hypothesis whose power is "
        "independent of the variance. The Annals of Mathematical Statistics, 16(3), 243-258. "
        "https://doi.org/10.1214/aoms/1177731088",
        """@article{stein1945,
  author = {Stein, Charles},
  title = {A Two-Sample Test for a Linear Hypothesis Whose Power is Independent of the Variance},
  journal = {The Annals of Mathematical Statistics},
  volume = {16},
  number = {3},
  pages = {243--258},
  year = {1945},
  doi = {10.1214/aoms/1177731088}
}""",
    ),
    Work(
        "student1908",
        "Student, 1908",
        "Student (1908). The probable error of a mean. Biometrika, 6(1), 1-25. "
        "https://doi.org/10.1093/biomet/6.1.1",
        """@article{student1908,
  author = {{Student}},
  title = {The Probable Error of a Mean},
  journal = {Biometrika},
  volume = {6},
  number = {1},
  pages = {1--25},
  year = {1908},
  doi = {10.1093/biomet/6.1.1}
}""",
    ),
    Work(
        "wilson1927",
        "Wilson, 1927",
        "Wilson, E. B. (1927). Probable inference, the law of succession, and statistical "
        "inference. Journal of the American Statistical Association, 22(158), 209-212. "
        "https://doi.org/10.1080/01621459.1927.10502953",
        """@article{wilson1927,
  author = {Wilson, Edwin B.},
  title = {Probable Inference, the Law of Succession, and Statistical Inference},
  journal = {Journal of the American Statistical Association},
  volume = {22},
  number = {158},
  pages = {209--212},
  year = {1927},
  doi = {10.1080/01621459.1927.10502953}
}""",
    ),
    Work(
        "mcnemar1947",
        "McNemar, 1947",
        "McNemar, Q. (1947). Note on the sampling error of the difference between correlated "
        "proportions or percentages. Psychometrika, 12(2), 153-157. "
        "https://doi.org/10.1007/BF02295996",
        """@article{mcnemar1947,
  author = {McNemar, Quinn},
  title = {Note on the Sampling Error of the Difference Between Correlated Proportions or Percentages},
  journal = {Psychometrika},
  volume = {12},
  number = {2},
  pages = {153--157},
  year = {1947},
  doi = {10.1007/BF02295996}
}""",
    ),
    Work(
        "efron1987",
        "Efron, 1987",
        "Efron, B. (1987). Better bootstrap confidence intervals. Journal of the American "
        "Statistical Association, 82(397), 171-185. https://doi.org/10.1080/01621459.1987.10478410",
        """@article{efron1987,
  author = {Efron, Bradley},
  title = {Better Bootstrap Confidence Intervals},
  journal = {Journal of the American Statistical Association},
  volume = {82},
  number = {397},
  pages = {171--185},
  year = {1987},
  doi = {10.1080/01621459.1987.10478410}
}""",
    ),
    Work(
        "david2010",
        "David et al., 2010",
        "David, H., Gorbatov, E., Hanebutte, U. R., Khanna, R., & Le, C. (2010). RAPL: Memory "
        "power estimation and capping. In Proceedings of the 16th ACM/IEEE International "
        "Symposium on Low Power Electronics and Design (ISLPED), 189-194. "
        "https://doi.org/10.1145/1840845.1840883",
        """@inproceedings{david2010,
  author = {David, Howard and Gorbatov, Eugene and Hanebutte, Ulf R. and Khanna, Rahul and Le, Christian},
  title = {{RAPL}: Memory Power Estimation and Capping},
  booktitle = {Proceedings of the 16th ACM/IEEE International Symposium on Low Power Electronics and Design (ISLPED)},
  pages = {189--194},
  year = {2010},
  doi = {10.1145/1840845.1840883}
}""",
    ),
    Work(
        "hackenberg2015",
        "Hackenberg et al., 2015",
        "Hackenberg, D., Schöne, R., Ilsche, T., Molka, D., Schuchart, J., & Geyer, R. (2015). "
        "An energy efficiency feature survey of the Intel Haswell processor. In IEEE "
        "International Parallel and Distributed Processing Symposium Workshop (IPDPSW), "
        "896-904. https://doi.org/10.1109/IPDPSW.2015.70",
        """@inproceedings{hackenberg2015,
  author = {Hackenberg, Daniel and Sch{\\"o}ne, Robert and Ilsche, Thomas and Molka, Daniel and Schuchart, Joseph and Geyer, Robin},
  title = {An Energy Efficiency Feature Survey of the {Intel} {Haswell} Processor},
  booktitle = {IEEE International Parallel and Distributed Processing Symposium Workshop (IPDPSW)},
  pages = {896--904},
  year = {2015},
  doi = {10.1109/IPDPSW.2015.70}
}""",
    ),
    Work(
        "desrochers2016",
        "Desrochers et al., 2016",
        "Desrochers, S., Paradis, C., & Weaver, V. M. (2016). A validation of DRAM RAPL power "
        "measurements. In Proceedings of the Second International Symposium on Memory Systems "
        "(MEMSYS), 455-470. https://doi.org/10.1145/2989081.2989088",
        """@inproceedings{desrochers2016,
  author = {Desrochers, Spencer and Paradis, Chad and Weaver, Vincent M.},
  title = {A Validation of {DRAM} {RAPL} Power Measurements},
  booktitle = {Proceedings of the Second International Symposium on Memory Systems (MEMSYS)},
  pages = {455--470},
  year = {2016},
  doi = {10.1145/2989081.2989088}
}""",
    ),
    Work(
        "nvml",
        "NVIDIA, NVML API Reference",
        "NVIDIA Corporation. NVML API Reference Guide (nvmlDeviceGetTotalEnergyConsumption, "
        "nvmlDeviceGetPowerUsage). https://docs.nvidia.com/deploy/nvml-api/",
        """@manual{nvml,
  author = {{NVIDIA Corporation}},
  title = {{NVML} {API} Reference Guide},
  note = {https://docs.nvidia.com/deploy/nvml-api/}
}""",
    ),
    Work(
        "hinton2015",
        "Hinton et al., 2015",
        "Hinton, G., Vinyals, O., & Dean, J. (2015). Distilling the knowledge in a neural "
        "network. arXiv:1503.02531. https://arxiv.org/abs/1503.02531",
        """@misc{hinton2015,
  author = {Hinton, Geoffrey and Vinyals, Oriol and Dean, Jeff},
  title = {Distilling the Knowledge in a Neural Network},
  year = {2015},
  eprint = {1503.02531},
  archivePrefix = {arXiv}
}""",
    ),
    Work(
        "hu2022",
        "Hu et al., 2022",
        "Hu, E. J., Shen, Y., Wallis, P., Allen-Zhu, Z., Li, Y., Wang, S., Wang, L., & Chen, W. "
        "(2022). LoRA: Low-rank adaptation of large language models. International Conference "
        "on Learning Representations (ICLR). https://arxiv.org/abs/2106.09685",
        """@inproceedings{hu2022,
  author = {Hu, Edward J. and Shen, Yelong and Wallis, Phillip and Allen-Zhu, Zeyuan and Li, Yuanzhi and Wang, Shean and Wang, Lu and Chen, Weizhu},
  title = {{LoRA}: Low-Rank Adaptation of Large Language Models},
  booktitle = {International Conference on Learning Representations (ICLR)},
  year = {2022}
}""",
    ),
    Work(
        "han2015",
        "Han et al., 2015",
        "Han, S., Pool, J., Tran, J., & Dally, W. J. (2015). Learning both weights and "
        "connections for efficient neural networks. Advances in Neural Information Processing "
        "Systems 28 (NIPS). https://arxiv.org/abs/1506.02626",
        """@inproceedings{han2015,
  author = {Han, Song and Pool, Jeff and Tran, John and Dally, William J.},
  title = {Learning both Weights and Connections for Efficient Neural Networks},
  booktitle = {Advances in Neural Information Processing Systems 28 (NIPS)},
  year = {2015}
}""",
    ),
    Work(
        "michel2019",
        "Michel et al., 2019",
        "Michel, P., Levy, O., & Neubig, G. (2019). Are sixteen heads really better than one? "
        "Advances in Neural Information Processing Systems 32 (NeurIPS). "
        "https://arxiv.org/abs/1905.10650",
        """@inproceedings{michel2019,
  author = {Michel, Paul and Levy, Omer and Neubig, Graham},
  title = {Are Sixteen Heads Really Better than One?},
  booktitle = {Advances in Neural Information Processing Systems 32 (NeurIPS)},
  year = {2019}
}""",
    ),
    Work(
        "jacob2018",
        "Jacob et al., 2018",
        "Jacob, B., Kligys, S., Chen, B., Zhu, M., Tang, M., Howard, A., Adam, H., & Kalenichenko, "
        "D. (2018). Quantization and training of neural networks for efficient "
        "integer-arithmetic-only inference. IEEE/CVF Conference on Computer Vision and Pattern "
        "Recognition (CVPR), 2704-2713. https://doi.org/10.1109/CVPR.2018.00286",
        """@inproceedings{jacob2018,
  author = {Jacob, Benoit and Kligys, Skirmantas and Chen, Bo and Zhu, Menglong and Tang, Matthew and Howard, Andrew and Adam, Hartwig and Kalenichenko, Dmitry},
  title = {Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference},
  booktitle = {IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages = {2704--2713},
  year = {2018},
  doi = {10.1109/CVPR.2018.00286}
}""",
    ),
    Work(
        "dettmers2023",
        "Dettmers et al., 2023",
        "Dettmers, T., Pagnoni, A., Holtzman, A., & Zettlemoyer, L. (2023). QLoRA: Efficient "
        "finetuning of quantized LLMs. Advances in Neural Information Processing Systems 36 "
        "(NeurIPS). https://arxiv.org/abs/2305.14314",
        """@inproceedings{dettmers2023,
  author = {Dettmers, Tim and Pagnoni, Artidoro and Holtzman, Ari and Zettlemoyer, Luke},
  title = {{QLoRA}: Efficient Finetuning of Quantized {LLMs}},
  booktitle = {Advances in Neural Information Processing Systems 36 (NeurIPS)},
  year = {2023}
}""",
    ),
    Work(
        "onnxruntime",
        "ONNX Runtime developers, 2021",
        "ONNX Runtime developers (2021). ONNX Runtime. https://onnxruntime.ai/",
        """@misc{onnxruntime,
  author = {{ONNX Runtime developers}},
  title = {{ONNX} Runtime},
  year = {2021},
  howpublished = {https://onnxruntime.ai/}
}""",
    ),
    Work(
        "mackinnon1985",
        "MacKinnon and White, 1985",
        "MacKinnon, J. G., & White, H. (1985). Some heteroskedasticity-consistent covariance "
        "matrix estimators with improved finite sample properties. Journal of Econometrics, "
        "29(3), 305-325. https://doi.org/10.1016/0304-4076(85)90158-7",
        """@article{mackinnon1985,
  author = {MacKinnon, James G. and White, Halbert},
  title = {Some Heteroskedasticity-Consistent Covariance Matrix Estimators with Improved Finite Sample Properties},
  journal = {Journal of Econometrics},
  volume = {29},
  number = {3},
  pages = {305--325},
  year = {1985},
  doi = {10.1016/0304-4076(85)90158-7}
}""",
    ),
    Work(
        "satterthwaite1946",
        "Satterthwaite, 1946",
        "Satterthwaite, F. E. (1946). An approximate distribution of estimates of variance "
        "components. Biometrics Bulletin, 2(6), 110-114. https://doi.org/10.2307/3002019",
        """@article{satterthwaite1946,
  author = {Satterthwaite, F. E.},
  title = {An Approximate Distribution of Estimates of Variance Components},
  journal = {Biometrics Bulletin},
  volume = {2},
  number = {6},
  pages = {110--114},
  year = {1946},
  doi = {10.2307/3002019}
}""",
    ),
    Work(
        "welch1947",
        "Welch, 1947",
        "Welch, B. L. (1947). The generalization of 'Student's' problem when several different "
        "population variances are involved. Biometrika, 34(1/2), 28-35. "
        "https://doi.org/10.1093/biomet/34.1-2.28",
        """@article{welch1947,
  author = {Welch, B. L.},
  title = {The Generalization of `{S}tudent's' Problem when Several Different Population
           Variances are Involved},
  journal = {Biometrika},
  volume = {34},
  number = {1/2},
  pages = {28--35},
  year = {1947},
  doi = {10.1093/biomet/34.1-2.28}
}""",
    ),
    Work(
        "greene2006",
        "Greene and Cunningham, 2006",
        "Greene, D., & Cunningham, P. (2006). Practical solutions to the problem of diagonal "
        "dominance in kernel document clustering. Proceedings of the 23rd International "
        "Conference on Machine Learning (ICML), 377-384. https://doi.org/10.1145/1143844.1143892",
        """@inproceedings{greene2006,
  author = {Greene, Derek and Cunningham, P{\\'a}draig},
  title = {Practical Solutions to the Problem of Diagonal Dominance in Kernel Document Clustering},
  booktitle = {Proceedings of the 23rd International Conference on Machine Learning (ICML)},
  pages = {377--384},
  year = {2006},
  doi = {10.1145/1143844.1143892}
}""",
    ),
)

WORKS: dict[str, Work] = {work.key: work for work in _WORKS}


def bibtex(keys: list[str]) -> str:
    """The BibTeX file of ``keys`` (in that order)."""
    return "\n\n".join(WORKS[key].bibtex for key in keys) + "\n"
