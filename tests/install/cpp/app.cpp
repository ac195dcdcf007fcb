// An application of the installed SDK (faceless.hpp through find_package).
#include <faceless.hpp>

#include <iostream>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: app IMAGE\n";
        return 2;
    }
    try {
        faceless::Pipeline pipeline;
        faceless::Analysis a = pipeline.analyze_file(argv[1]);
        std::cout << "cpp: faceless " << faceless_version() << ", " << a.faces.size() << " face(s)";
        if (!a.faces.empty())
            std::cout << ", first: " << a.faces[0].gender.label << " " << a.faces[0].gender.prob << ", age "
                      << a.faces[0].age_years;
        std::cout << "\n";
        return a.faces.empty() ? 1 : 0;
    } catch (const faceless::Error& e) {
        std::cerr << "faceless: " << e.what() << "\n";
        return 1;
    }
}
